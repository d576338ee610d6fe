"""gunicorn's settings for the project (``make serve``; ``tools/split.py`` serves with it too).

Every value can be set from the environment; command-line flags override this file.

    GUNICORN_BIND              address to listen on (default 127.0.0.1:8000)
    GUNICORN_WORKERS           sync worker processes (default 2 x CPUs + 1)
    GUNICORN_TIMEOUT           seconds a request may take before its worker is restarted (30)
    GUNICORN_GRACEFUL_TIMEOUT  seconds workers get to finish their requests on SIGTERM (30)
    GUNICORN_KEEPALIVE         seconds an idle keep-alive connection stays open (5)
    GUNICORN_MAX_REQUESTS      recycle a worker after this many requests; 0 never (1000)
    GUNICORN_CONTROL_SOCKET    path of gunicorn's control socket (gunicornc); unset: none,
                               so several servers on one host (split mode) never share one
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


wsgi_app = "config.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = _int("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# A little jitter, so the workers are not all recycled at the same moment.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = max_requests // 10

# Access log on stdout: each line carries the correlation id the middleware answered with
# (X-Correlation-ID), the worker's pid (as <pid>) and the time taken in microseconds.
accesslog = "-"
errorlog = "-"
access_log_format = (
    '%(h)s "%(r)s" %(s)s %(B)s %(D)sus pid=%(p)s correlation_id=%({x-correlation-id}o)s "%(a)s"'
)
# Behind a proxy that terminates TLS: trust X-Forwarded-* from these addresses only.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket


def child_exit(server: object, worker: object) -> None:
    """Prometheus multi-process mode (PROMETHEUS_MULTIPROC_DIR set): a worker that exits
    leaves its gauge files for the others to stop counting."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
