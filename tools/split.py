"""Run the split deployment locally: accounts and orders as two services over RabbitMQ.

    python tools/split.py            (what `make split` runs)

Each service gets its own PostgreSQL database, a gunicorn web server, a worker (relay to
the broker, retries) and a consumer (its queue). Ctrl-C stops everything. Tests use
SplitDeployment directly, with their own ports, database names and queue prefix.
"""

import argparse
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

    # A fresh secret key per service and run: the settings refuse to start without one.
    secret_keys: dict[str, str] = field(
        default_factory=lambda: {module: secrets.token_urlsafe(50) for module in MODULES}
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
            **self.web_security_env(module),
            "EVENTBUS_BROKER_URL": self.broker,
            "EVENTBUS_EXCHANGE": self.exchange,
            "EVENTBUS_QUEUE_PREFIX": self.queue_prefix,
            "JWT_PUBLIC_KEY_PATH": str(keys["public"]),
            "PYTHONUNBUFFERED": "1",
        }
        if module == "accounts":
            env["JWT_PRIVATE_KEY_PATH"] = str(keys["private"])
        else:
            env.pop("JWT_PRIVATE_KEY_PATH", None)
        return env


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
    """The command of a gunicorn serving the project on 127.0.0.1:PORT, access log on stdout."""
    return [
        PYTHON, "-m", "gunicorn", "config.wsgi:application",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers),
        "--access-logfile", "-",
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
        for module in MODULES:
            ensure_database(self.config, module)
            self.manage(module, "migrate", "--no-input", "-v0")
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
                "",
            ]
        )


@contextmanager
def running(config: SplitConfig) -> Iterator[SplitDeployment]:
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
    args = parser.parse_args()
    config = SplitConfig(
        postgres=args.postgres,
        broker=args.broker,
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
