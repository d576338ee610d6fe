"""Run the split deployment locally: accounts and orders as two services over RabbitMQ.

    python tools/split.py            (what `make split` runs)

Each service gets its own PostgreSQL database, a gunicorn web server, a worker (relay to
the broker, retries) and a consumer (its queue), and connects to RabbitMQ as its own user
(made with `rabbitmqctl`; passwords from EVENTBUS_BROKER_PASSWORD_<MODULE>), allowed to
publish only its own module's events. Ctrl-C stops everything and keeps the users. Tests use
SplitDeployment directly, with their own ports, database names, exchange and queue prefix,
hence broker users of their own (broker_user_name), deleted when they stop (``throwaway``).
"""

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MODULES = ("accounts", "orders")


@dataclass
class SplitConfig:
    postgres: str = "postgres://postgres@127.0.0.1:5432"
    broker: str = "amqp://guest:guest@127.0.0.1:5672//"
    database_prefix: str = "split"
    queue_prefix: str = ""
    exchange: str = "eventbus"
    ports: dict[str, int] = field(default_factory=lambda: {"accounts": 8001, "orders": 8002})
    keys_dir: Path = ROOT / "var" / "keys"
    web_workers: int = 2
    fresh: bool = False
    quiet: bool = False
    #: Each service connects as its own RabbitMQ user, named from ``queue_prefix`` by
    #: broker_user_name and made by `rabbitmqctl` (ensure_broker_users); off: every service
    #: connects as ``broker``'s user.
    broker_users: bool = True
    #: A test's or a benchmark's deployment: its broker users are deleted when it stops
    #: (``running``). It needs a queue prefix of its own, so they are never another's.
    throwaway: bool = False
    #: Variables added to every service process's environment (the tests' span exporter).
    extra_env: dict[str, str] = field(default_factory=dict)

    # A fresh secret key per service and run: the settings refuse to start without one.
    secret_keys: dict[str, str] = field(
        default_factory=lambda: {module: secrets.token_urlsafe(50) for module in MODULES}
    )

    def __post_init__(self) -> None:
        if self.throwaway and self.broker_users and not self.queue_prefix:
            raise ValueError(
                "A throwaway split deployment needs a queue_prefix of its own: without one its "
                f"broker users would be {broker_user_name('', MODULES[0])!r} and "
                f"{broker_user_name('', MODULES[1])!r}, the default deployment's, and stopping "
                "it would delete them."
            )

    def web_security_env(self, module: str) -> dict[str, str]:
        """The service's secret key, and plain HTTP on 127.0.0.1 (no TLS redirect or
        HTTPS-only cookies, which the production defaults turn on)."""
        return {
            "DJANGO_SECRET_KEY": self.secret_keys[module],
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_SECURE_COOKIES": "false",
        }

    def url(self, module: str) -> str:
        return f"http://127.0.0.1:{self.ports[module]}"

    def database_name(self, module: str) -> str:
        return f"{self.database_prefix}_{module}"

    def env(self, module: str) -> dict[str, str]:
        keys = ensure_keys(self.keys_dir)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": f"config.settings.{module}_service",
            "DATABASE_URL": f"{self.postgres}/{self.database_name(module)}",
            "DB_CONN_MAX_AGE": "60",
            # Each service collects its own static files (make split runs collectstatic).
            "DJANGO_STATIC_ROOT": str(ROOT / "var" / "static" / module),
            **self.web_security_env(module),
            "EVENTBUS_BROKER_URL": self.service_broker(module),
            "EVENTBUS_EXCHANGE": self.exchange,
            "EVENTBUS_QUEUE_PREFIX": self.queue_prefix,
            "JWT_PUBLIC_KEY_PATH": str(keys["public"]),
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }
        if module == "accounts":
            env["JWT_PRIVATE_KEY_PATH"] = str(keys["private"])
            # Its browsable API's login may send a browser back to orders' pages.
            env["API_LOGIN_REDIRECT_HOSTS"] = urlsplit(self.url("orders")).netloc
        else:
            env.pop("JWT_PRIVATE_KEY_PATH", None)
            # orders' "Log in" link leads to accounts, which signs the cookie's token.
            env["API_LOGIN_URL"] = f"{self.url('accounts')}/api/auth/login/"
        return env

    def broker_user(self, module: str) -> tuple[str, str]:
        """The service's broker user and password: EVENTBUS_BROKER_PASSWORD_<MODULE> from
        the environment, else a development-only default."""
        password = os.environ.get(
            f"EVENTBUS_BROKER_PASSWORD_{module.upper()}", f"{module}-dev-only-broker-password"
        )
        return broker_user_name(self.queue_prefix, module), password

    def service_broker(self, module: str) -> str:
        """The broker URL a service connects with: ``broker`` with the service's own user."""
        if not self.broker_users:
            return self.broker
        user, password = self.broker_user(module)
        parts = urlsplit(self.broker)
        host = parts.netloc.rpartition("@")[2]
        netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
        return urlunsplit(parts._replace(netloc=netloc))

    def vhost(self) -> str:
        path = urlsplit(self.broker).path
        return unquote(path[1:]) if len(path) > 1 else "/"

    def broker_url_user(self) -> str:
        """The user in ``broker`` (``guest`` by default), which creates the services' users."""
        return unquote(urlsplit(self.broker).username or "")


def broker_user_name(queue_prefix: str, module: str) -> str:
    """The RabbitMQ user of ``module``'s service in the deployment whose queues start with
    ``queue_prefix``: "<queue_prefix>eventbus-<module>", so deployments side by side on one
    broker have users of their own; ``make split``'s (no prefix) are "eventbus-accounts" and
    "eventbus-orders". The one place the name is spelled."""
    return f"{queue_prefix}eventbus-{module}"


def rabbitmqctl(*args: str, timeout: float = 60) -> str:
    """Run ``rabbitmqctl ARGS`` on this machine; raises RuntimeError with its error output."""
    done = subprocess.run(
        ["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {args[0]} failed: {(done.stderr or done.stdout).strip()}")
    return done.stdout


def ensure_broker_users(config: SplitConfig) -> None:
    """Create or update each service's RabbitMQ user (idempotent): its password, and the
    permissions its own process computes (`manage.py eventbus broker-permissions`): its
    own queues, and publishing only its own module's routing keys."""
    vhost = config.vhost()
    for module in MODULES:
        user, password = config.broker_user(module)
        try:
            rabbitmqctl("add_user", user, password)
        except RuntimeError as exc:
            if "already exists" not in str(exc):
                raise
            rabbitmqctl("change_password", user, password)
        wanted = json.loads(
            run(
                ["manage.py", "eventbus", "broker-permissions", "--exchange", config.exchange],
                env=config.env(module),
            )
        )
        rabbitmqctl(
            "set_permissions", "-p", vhost, user,
            wanted["configure"], wanted["write"], wanted["read"],
        )  # fmt: skip
        rabbitmqctl("clear_topic_permissions", "-p", vhost, user)
        for exchange, write in wanted["topics"].items():
            rabbitmqctl("set_topic_permissions", "-p", vhost, user, exchange, write, ".*")


def delete_broker_users(config: SplitConfig) -> None:
    """Delete a throwaway deployment's RabbitMQ users (idempotent). Raises ValueError,
    deleting nothing, for a deployment that is not throwaway, or if a name is the default
    deployment's or the broker URL's own user (``guest``); nothing to delete without
    ``broker_users`` (the services connected as the broker URL's user)."""
    if not config.throwaway:
        raise ValueError(
            "Only a throwaway (test) split deployment's broker users are deleted; "
            "a person's deployment (make split) keeps them."
        )
    if not config.broker_users:
        return
    users = [config.broker_user(module)[0] for module in MODULES]
    kept = {broker_user_name("", module) for module in MODULES} | {config.broker_url_user()}
    if refused := sorted(kept.intersection(users)):
        raise ValueError(
            f"Refusing to delete the broker users {refused}: they are not this deployment's own."
        )
    for user in users:
        try:
            rabbitmqctl("delete_user", user)
        except RuntimeError as exc:
            if "does not exist" not in str(exc) and "no_such_user" not in str(exc):
                raise


@contextmanager
def broker_users(config: SplitConfig) -> Iterator[None]:
    """The services' broker users for the deployment's lifetime: made or updated on entry
    (ensure_broker_users), deleted on exit if the deployment is throwaway, kept otherwise.
    Nothing to do without ``broker_users``."""
    if not config.broker_users:
        yield
        return
    try:
        ensure_broker_users(config)
        yield
    finally:
        if config.throwaway:
            delete_broker_users(config)


def ensure_keys(directory: Path) -> dict[str, Path]:
    """A development RS256 key pair (made once, kept under var/keys/)."""
    private, public = directory / "jwt-private.pem", directory / "jwt-public.pem"
    if not (private.exists() and public.exists()):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        directory.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        private.chmod(0o600)
        public.write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    return {"private": private, "public": public}


def run(argv: Sequence[str], *, env: Mapping[str, str], timeout: float = 300) -> str:
    """Run ``python ARGV`` in the project root to completion and return its standard output;
    raises RuntimeError with the command and both outputs if it exits with an error."""
    done = subprocess.run(
        [PYTHON, *argv], cwd=ROOT, env=dict(env), capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"python {' '.join(argv)} exited with {done.returncode}:\n{done.stdout}\n{done.stderr}"
        )
    return done.stdout


def web_server(port: int, workers: int) -> list[str]:
    """The command of a gunicorn serving the project on 127.0.0.1:PORT with the project's
    gunicorn.conf.py (timeouts, graceful shutdown, access log with the correlation id)."""
    return [
        PYTHON, "-m", "gunicorn", "config.wsgi:application",
        "--config", str(ROOT / "gunicorn.conf.py"),
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers),
    ]  # fmt: skip


def ensure_database(config: SplitConfig, module: str) -> None:
    import psycopg

    name = config.database_name(module)
    with psycopg.connect(f"{config.postgres}/postgres", autocommit=True) as connection:
        if config.fresh:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


class Processes:
    """Long-running processes in the project root, each under a label, with their output
    kept (and echoed unless quiet); checked and stopped together."""

    def __init__(self, *, quiet: bool) -> None:
        self.quiet = quiet
        self.processes: dict[str, subprocess.Popen[str]] = {}
        self.output: dict[str, list[str]] = {}

    def launch(self, label: str, command: list[str], env: Mapping[str, str]) -> None:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=dict(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # Ctrl-C reaches us, and we stop them in order
        )
        self.processes[label] = process
        self.output[label] = []
        threading.Thread(target=self._pump, args=(label, process), daemon=True).start()

    def _pump(self, label: str, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.output[label].append(line.rstrip())
            if not self.quiet:
                print(f"[{label:<16}] {line.rstrip()}", flush=True)

    def check_alive(self) -> None:
        for label, process in self.processes.items():
            if process.poll() is not None:
                tail = "\n".join(self.output[label][-20:])
                raise RuntimeError(f"{label} exited with {process.returncode}:\n{tail}")

    def stop(self, label: str | None = None, sig: int = signal.SIGTERM) -> None:
        """Stop one process (by label) or all of them; SIGKILL after 10 s."""
        labels = [label] if label else list(self.processes)
        for name in labels:
            process = self.processes[name]
            if process.poll() is None:
                os.killpg(process.pid, sig)
        for name in labels:
            process = self.processes[name]
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


class SplitDeployment(Processes):
    """The six processes of the split deployment, started and stopped together."""

    def __init__(self, config: SplitConfig) -> None:
        super().__init__(quiet=config.quiet)
        self.config = config

    def run(self, module: str, *argv: str) -> str:
        """Run ``python ARGV`` to completion in a service's environment; its stdout."""
        return run(argv, env=self.config.env(module))

    def manage(self, module: str, *args: str) -> str:
        return self.run(module, "manage.py", *args)

    def prepare(self) -> None:
        """Both databases created if missing, migrated, their static files collected and the
        catalogue loaded (the broker users are ``running``'s, through broker_users)."""
        for module in MODULES:
            ensure_database(self.config, module)
            self.manage(module, "migrate", "--no-input", "-v0")
            self.manage(module, "collectstatic", "--no-input", "-v0")
        self.manage("orders", "load_catalogue")

    def start(self) -> None:
        for module in MODULES:
            env = self.config.env(module)
            web = web_server(self.config.ports[module], self.config.web_workers)
            self.launch(f"{module}-web", web, env)
            self.launch(f"{module}-worker", [PYTHON, "manage.py", "eventbus", "worker"], env)
            self.launch(f"{module}-consumer", [PYTHON, "manage.py", "eventbus", "consume"], env)
        self.wait_until_serving()

    def wait_until_serving(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        for module in MODULES:
            while True:
                self.check_alive()
                try:
                    with urllib.request.urlopen(f"{self.config.url(module)}/api/", timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(
                            f"{module} did not start serving in {timeout} s"
                        ) from None
                    time.sleep(0.2)

    def restart(self, label: str, env: dict[str, str] | None = None) -> None:
        """Start a stopped process again with the same command; ``env`` overrides variables
        of its service's environment (e.g. EVENTBUS_BROKER_URL pointing at a closed port)."""
        module = label.split("-", 1)[0]
        command = self.processes[label].args
        assert isinstance(command, list)  # launch() passes a list to Popen
        self.launch(label, command, {**self.config.env(module), **(env or {})})

    def banner(self) -> str:
        accounts, orders = self.config.url("accounts"), self.config.url("orders")
        return "\n".join(
            [
                "",
                "The split deployment is running (Ctrl-C stops it):",
                f"  accounts  {accounts}/api/   (register, login, profile; signs RS256 tokens)",
                f"  orders    {orders}/api/   (catalogue, orders; verifies tokens, no user table)",
                f"  databases {self.config.database_name('accounts')} and "
                f"{self.config.database_name('orders')} on {self.config.postgres}",
                f"  broker    {self.config.broker} (exchange {self.config.exchange!r})",
                "  users     "
                + " and ".join(self.config.broker_user(m)[0] for m in MODULES)
                + " (each may publish only its own events)"
                if self.config.broker_users
                else "  users     the broker URL's, shared",
                "",
            ]
        )


@contextmanager
def running(config: SplitConfig) -> Iterator[SplitDeployment]:
    """The deployment prepared, started, and stopped on exit; its broker users outlive
    its processes and, for a throwaway deployment, are deleted after them."""
    with broker_users(config):
        deployment = SplitDeployment(config)
        deployment.prepare()
        try:
            deployment.start()
            yield deployment
        finally:
            deployment.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts-port", type=int, default=8001)
    parser.add_argument("--orders-port", type=int, default=8002)
    parser.add_argument("--postgres", default=SplitConfig.postgres)
    parser.add_argument("--broker", default=SplitConfig.broker)
    parser.add_argument("--fresh", action="store_true", help="drop and recreate both databases")
    parser.add_argument(
        "--shared-broker-user",
        action="store_true",
        help="connect every service as the --broker URL's user (no rabbitmqctl here)",
    )
    args = parser.parse_args()
    config = SplitConfig(
        postgres=args.postgres,
        broker=args.broker,
        broker_users=not args.shared_broker_user,
        ports={"accounts": args.accounts_port, "orders": args.orders_port},
        fresh=args.fresh,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with running(config) as deployment:
        print(deployment.banner(), flush=True)
        while not stop.wait(0.5):
            deployment.check_alive()
    print("Stopped.")


if __name__ == "__main__":
    main()
