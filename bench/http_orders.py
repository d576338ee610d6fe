"""POST /api/orders/ from outside, under gunicorn and wrk, against a bare DRF endpoint.

gunicorn (2 sync workers, production settings with persistent connections, PostgreSQL)
serves the monolith plus a bench-only bare endpoint (config.bench_urls: validate the same
body, INSERT one row). wrk (2 threads) drives it with a Lua script: many registered
customers, access tokens made in advance, each request the next customer's, placing an
order of two lines. At each concurrency, POST /api/orders/ and the bare endpoint are run
back to back under the same server, so the ratio is measured side by side.

Two server runs: inline delivery, then worker delivery with an `eventbus worker` process
beside gunicorn. In worker mode, after each step, what the worker has left (undispatched
events, and the orders' confirmation tasks due), the age of the oldest and the time the
worker takes to drain it are the worker's lag; in inline mode no worker runs, so the tasks
wait (their cost is not in that mode's figures). Each step also reports the CPU its requests
cost, process by process (gunicorn, the PostgreSQL backends, the bus worker, wrk), read
from /proc: on a machine whose cores are busy, the throughput ratio is the ratio of these.

A third mode, `deferred` (not run unless asked: --modes inline,deferred), is worker
delivery with no worker running: the order's request alone, its event and task written to
the outbox and delivered by nobody. It bounds what any change to the delivery could gain:
the inline delivery costs at least nothing.

Needs wrk (`apt-get install -y wrk`); BENCH_WRK_RAW=1 prints wrk's own output of each
step. Writes a PNG of throughput and p99 against concurrency (--plot, needs matplotlib
from the dev group).

    python bench/http_orders.py [--customers 40] [--duration 8] [--concurrency 2,8,16,32]
        [--modes inline,worker,deferred] [--plot docs/performance_http_orders.png]
"""

import argparse
import json
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django import ROOT, create_postgres_database

GOALS = {"throughput": 0.5, "p99": 2.0}
SETTINGS = "config.settings.bench_http"
ORDERS = "/api/orders/"
BARE = "/bench/bare-orders/"
BODY = json.dumps({"lines": [{"sku": "MUG-1", "quantity": 2}, {"sku": "BOOK-1", "quantity": 1}]})

LUA = """
local tokens = {%(tokens)s}
local body = [[%(body)s]]
local i = 0
request = function()
  i = i + 1
  local headers = {["Content-Type"] = "application/json"}
  if #tokens > 0 then
    headers["Authorization"] = "Bearer " .. tokens[(i %% #tokens) + 1]
  end
  return wrk.format("POST", nil, headers, body)
end
"""


@dataclass
class Step:
    mode: str
    endpoint: str
    concurrency: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    cpu: "CpuPerRequest | None" = None


@dataclass
class CpuPerRequest:
    """CPU time (user + system, ms) each request of a step cost, by process: gunicorn's
    master and workers, the PostgreSQL backends of the bench's database (the workers'
    connections, and the bus worker's in worker mode), the bus worker process, wrk."""

    gunicorn: float
    postgres: float
    bus_worker: float
    wrk: float

    @property
    def total(self) -> float:
        return self.gunicorn + self.postgres + self.bus_worker + self.wrk


def process_cpu_seconds(pid: int) -> float:
    """User and system CPU of a local process so far, from /proc (clock-tick resolution);
    0 for a process that is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_of(pid: int) -> list[int]:
    """The pids whose parent is ``pid`` (gunicorn's workers), read from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def postgres_backends(db_url: str) -> list[int]:
    """The pids of the server processes connected to the bench's database."""
    import psycopg

    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [pid for (pid,) in rows]


class CpuMeter:
    """What a step's requests cost the machine, process by process: read before and after
    the step. A PostgreSQL backend that appears during the step is counted whole."""

    def __init__(self, gunicorn: int, bus_worker: int | None, db_url: str) -> None:
        self.gunicorn = gunicorn
        self.bus_worker = bus_worker
        self.db_url = db_url

    def _read(self) -> tuple[float, dict[int, float], float, float]:
        web = sum(process_cpu_seconds(p) for p in [self.gunicorn, *children_of(self.gunicorn)])
        backends = {pid: process_cpu_seconds(pid) for pid in postgres_backends(self.db_url)}
        worker = process_cpu_seconds(self.bus_worker) if self.bus_worker else 0.0
        waited = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk, once it has exited
        return web, backends, worker, waited.ru_utime + waited.ru_stime

    def start(self) -> None:
        self._before = self._read()

    def per_request(self, requests: int) -> CpuPerRequest:
        web0, backends0, worker0, wrk0 = self._before
        web1, backends1, worker1, wrk1 = self._read()
        postgres = sum(cpu - backends0.get(pid, 0.0) for pid, cpu in backends1.items())
        per = 1000 / max(requests, 1)
        return CpuPerRequest(
            gunicorn=(web1 - web0) * per,
            postgres=postgres * per,
            bus_worker=(worker1 - worker0) * per,
            wrk=(wrk1 - wrk0) * per,
        )


def require_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit(
            "wrk is not installed. Install it from the Debian packages:\n"
            "    sudo apt-get update && sudo apt-get install -y wrk"
        )
    return wrk


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(customers: int) -> list[str]:
    """Migrate, seed the catalogue and register the customers (inline, so orders has their
    replicas); return one access token per customer."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from decimal import Decimal

    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.services import user_register
    from orders.services import product_upsert

    product_upsert(sku="MUG-1", name="Mug", price=Decimal("7.35"))
    product_upsert(sku="BOOK-1", name="Book", price=Decimal("12.50"))
    tokens = []
    for n in range(customers):
        user = user_register(
            username=f"bench{n}", email=f"bench{n}@example.com", password=secrets.token_hex(12)
        )
        tokens.append(str(AccessToken.for_user(user)))
    from django.db import connections

    connections.close_all()
    return tokens


def parse_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(wrk: str, url: str, script: Path, concurrency: int, duration: int) -> dict[str, float]:
    out = subprocess.run(
        [wrk, "-t2", f"-c{concurrency}", f"-d{duration}s", "--latency", "-s", str(script), url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    result = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": parse_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),  # type: ignore[union-attr]
        "p99": parse_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),  # type: ignore[union-attr]
        "requests": float(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
        "errors": 0.0,
    }
    if os.environ.get("BENCH_WRK_RAW"):
        print(out[-1500:])
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors:.*?timeout (\d+)", out)
    result["errors"] = float(non_2xx.group(1) if non_2xx else 0) + float(
        socket_errors.group(1) if socket_errors else 0
    )
    return result


#: What the worker has left: undispatched events, and due deliveries (the orders'
#: confirmation tasks, dispatched from the start, run as due deliveries), each with the
#: time it has been waiting since.
BACKLOG_SQL = """
SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min(since)), 0) FROM (
    SELECT occurred_at AS since FROM eventbus_outboxmessage WHERE dispatched_at IS NULL
    UNION ALL
    SELECT next_attempt_at FROM eventbus_delivery
    WHERE status IN ('failed', 'waiting') AND next_attempt_at <= now()
) AS behind
"""


def backlog(db_url: str) -> tuple[int, float]:
    """What the worker has left (events and due tasks) and the age of the oldest, seconds."""
    import psycopg

    with psycopg.connect(db_url) as conn:
        count, age = conn.execute(BACKLOG_SQL).fetchone()  # type: ignore[misc]
    return int(count), float(age)


def wait_drained(db_url: str, timeout: float = 120.0) -> float:
    start = time.monotonic()
    while backlog(db_url)[0] and time.monotonic() - start < timeout:
        time.sleep(0.05)
    return time.monotonic() - start


def wait_up(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start listening in 30 s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def serve_and_measure(
    mode: str, env: dict[str, str], wrk: str, scripts: dict[str, Path], args: argparse.Namespace
) -> tuple[list[Step], list[dict[str, float]]]:
    env = {**env, "EVENTBUS_DELIVERY": "worker" if mode == "deferred" else mode}
    port = free_port()
    logs = Path(tempfile.mkdtemp(prefix="bench-http-"))
    gunicorn = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"), "config.wsgi:application",
            "--workers", str(args.workers), "--worker-class", "sync",
            "--bind", f"127.0.0.1:{port}", "--backlog", "2048", "--timeout", "60",
            "--error-logfile", str(logs / "gunicorn.log"),
            # gunicorn.conf.py's access log (one line a request) goes to a file, not to
            # this script's output; both endpoints still pay for writing it.
            "--access-logfile", str(logs / "access.log"),
            # gunicorn.conf.py recycles a worker every ~1,000 requests; in a step of a few
            # thousand that restart (Django's start-up on a busy machine) would be most of
            # the p99 and the errors, landing on whichever endpoint runs at that moment.
            "--max-requests", "0",
        ],
        cwd=ROOT, env=env,
    )  # fmt: skip
    worker = None
    if mode == "worker":
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "eventbus", "worker"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(logs / "worker.log", "w"),  # noqa: SIM115 (open while it runs)
        )  # fmt: skip
    steps: list[Step] = []
    lags: list[dict[str, float]] = []
    try:
        wait_up(port, gunicorn)
        base = f"http://127.0.0.1:{port}"
        # Warm both (connections, imports) until both answer: the port opens before the
        # workers have loaded Django, which on a busy machine can take longer than a round.
        for _ in range(30):
            warm = [run_wrk(wrk, base + e, scripts[e], 2, 2) for e in (ORDERS, BARE)]
            if all(w["requests"] and not w["errors"] for w in warm):
                break
        if worker is not None:
            wait_drained(env["DATABASE_URL"])
        meter = CpuMeter(gunicorn.pid, worker.pid if worker else None, env["DATABASE_URL"])
        for concurrency in args.concurrency:
            for endpoint in (ORDERS, BARE):
                meter.start()
                r = run_wrk(wrk, base + endpoint, scripts[endpoint], concurrency, args.duration)
                cpu = meter.per_request(int(r["requests"]))
                step = Step(
                    mode, endpoint, concurrency, r["rps"], r["p50"], r["p99"],
                    int(r["errors"]), int(r["requests"]), cpu,
                )  # fmt: skip
                steps.append(step)
                print(
                    f"  {mode:6} {endpoint:20} c={concurrency:<3} {step.rps:8.1f} req/s  "
                    f"p50 {step.p50_ms:7.1f} ms  p99 {step.p99_ms:7.1f} ms  "
                    f"errors {step.errors}/{step.requests}  CPU a request {cpu.total:.2f} ms "
                    f"(gunicorn {cpu.gunicorn:.2f}, PostgreSQL {cpu.postgres:.2f}, "
                    f"bus worker {cpu.bus_worker:.2f}, wrk {cpu.wrk:.2f})",
                    flush=True,
                )
                if worker is not None and endpoint == ORDERS:
                    left, age = backlog(env["DATABASE_URL"])
                    drain = wait_drained(env["DATABASE_URL"])
                    lag = {"concurrency": concurrency, "backlog": left, "oldest_s": age,
                           "drain_s": drain, "rate": step.rps}  # fmt: skip
                    lags.append(lag)
                    print(
                        f"  worker lag at c={concurrency}: {left} events and tasks behind, oldest "
                        f"{age:.2f} s, drained in {drain:.2f} s",
                        flush=True,
                    )
    finally:
        stop(gunicorn)
        if worker is not None:
            stop(worker)
    return steps, lags


def plot(steps: list[Step], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = [
        ("inline", ORDERS, "POST /api/orders/, inline"),
        ("worker", ORDERS, "POST /api/orders/, worker mode"),
        ("deferred", ORDERS, "POST /api/orders/, no delivery (bound)"),
        ("inline", BARE, "bare DRF serializer + INSERT"),
    ]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for mode, endpoint, label in cases:
        rows = [s for s in steps if s.mode == mode and s.endpoint == endpoint]
        if not rows:
            continue
        xs = [s.concurrency for s in rows]
        left.plot(xs, [s.rps for s in rows], marker="o", label=label)
        right.plot(xs, [s.p99_ms for s in rows], marker="o", label=label)
    left.set(xlabel="concurrent connections (wrk)", ylabel="requests/s", title="Throughput")
    right.set(xlabel="concurrent connections (wrk)", ylabel="ms", title="p99 latency")
    for ax in (left, right):
        ax.set_xscale("log", base=2)
        ax.grid(True, alpha=0.3)
    left.legend(fontsize=8)
    fig.suptitle("gunicorn, 2 sync workers, PostgreSQL, CONN_MAX_AGE; wrk 2 threads")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"plot written to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=40)
    parser.add_argument("--duration", type=int, default=8, help="seconds per step")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument(
        "--concurrency", type=lambda s: [int(c) for c in s.split(",")], default=[2, 8, 16, 32]
    )
    parser.add_argument("--modes", default="inline,worker")
    parser.add_argument("--plot", type=Path, default=None, help="write a PNG here")
    args = parser.parse_args()
    wrk = require_wrk()

    sys.path.insert(0, str(ROOT))
    db_url = create_postgres_database("http")
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DB_CONN_MAX_AGE": "600",
    }
    os.environ.update(env)
    tokens = prepare(args.customers)
    tmp = Path(tempfile.mkdtemp(prefix="bench-http-lua-"))
    scripts = {}
    for endpoint, toks in ((ORDERS, tokens), (BARE, [])):
        script = tmp / f"{endpoint.strip('/').replace('/', '_')}.lua"
        script.write_text(LUA % {"tokens": ", ".join(f'"{t}"' for t in toks), "body": BODY})
        scripts[endpoint] = script

    print(
        f"{args.customers} customers, gunicorn {args.workers} sync workers, wrk 2 threads, "
        f"{args.duration} s per step"
    )
    steps: list[Step] = []
    lags: list[dict[str, float]] = []
    for mode in args.modes.split(","):
        mode_steps, mode_lags = serve_and_measure(mode, env, wrk, scripts, args)
        steps += mode_steps
        lags += mode_lags

    print("\nPOST /api/orders/ against the bare endpoint in the same server run:")
    print(
        "mode    conc  orders req/s  bare req/s  ratio   orders p50/p99 ms   bare p99 ms  p99 x"
        "   CPU ms a request orders/bare"
    )
    for s in steps:
        if s.endpoint != ORDERS:
            continue
        (bare,) = [
            b for b in steps if b.endpoint == BARE and b.mode == s.mode and
            b.concurrency == s.concurrency
        ]  # fmt: skip
        print(
            f"{s.mode:7} {s.concurrency:4}  {s.rps:12.1f}  {bare.rps:10.1f}  "
            f"{s.rps / bare.rps:4.2f}x   {s.p50_ms:7.1f} / {s.p99_ms:7.1f}   "
            f"{bare.p99_ms:11.1f}  {s.p99_ms / bare.p99_ms:4.2f}x"
            + (f"   {s.cpu.total:5.2f} / {bare.cpu.total:5.2f}" if s.cpu and bare.cpu else "")
        )
    if "deferred" in args.modes.split(","):
        print("deferred: worker delivery with no worker, the request alone (a bound, not a mode)")
    print(f"goals (inline): throughput >= {GOALS['throughput']}x, p99 <= {GOALS['p99']}x")
    if args.plot:
        plot(steps, args.plot)


if __name__ == "__main__":
    main()
