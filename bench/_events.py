"""The benchmarks' event and subscribers, imported by a benchmark and its worker process
alike so both see the same handler ids."""

import os
import time

from eventbus import Event, subscriber


class BenchmarkTicked(Event):
    event_name = "bench.benchmark_ticked"
    event_version = 1
    n: int


class LatencyProbed(Event):
    event_name = "bench.latency_probed"
    event_version = 1
    n: int


@subscriber(BenchmarkTicked)
def noop(event: BenchmarkTicked) -> None:
    return None


@subscriber(LatencyProbed)
def record_receipt(event: LatencyProbed) -> None:
    """Append "<n> <time.time()>" to $BENCH_RECEIPTS the moment the worker calls it."""
    received = time.time()
    with open(os.environ["BENCH_RECEIPTS"], "a") as out:
        out.write(f"{event.n} {received!r}\n")


def fill_sql_mariadb(table: str, *, count: int, name: str, dispatched: bool, first: int = 1) -> str:
    """fill_sql for MariaDB: the same rows, from its sequence engine (``seq_1_to_n``)."""
    return (
        f"INSERT INTO {table} (id, name, version, occurred_at, producer, correlation_id, "
        "causation_id, aggregate_id, payload, dispatched_at) "
        "SELECT CAST(CONCAT(LPAD(HEX(FLOOR(UNIX_TIMESTAMP(NOW(3)) * 1000)), 12, '0'), "
        "LPAD(HEX(seq), 20, '0')) AS UUID), "
        f"'{name}', 1, UTC_TIMESTAMP(6), 'bench', 'bench', NULL, '', JSON_OBJECT('n', seq), "
        f"{'UTC_TIMESTAMP(6)' if dispatched else 'NULL'} "
        f"FROM seq_{first}_to_{first + count - 1}"
    )


def fill_sql(table: str, *, count: int, name: str, dispatched: bool, first: int = 1) -> str:
    """SQL that inserts ``count`` outbox rows of event ``name`` (payload {"n": i}) fast.

    Ids are uuid7-shaped and increase with i from the current time, so later fills sort
    after earlier ones, as published events do."""
    return (
        f"INSERT INTO {table} (id, name, version, occurred_at, producer, correlation_id, "
        "causation_id, aggregate_id, payload, dispatched_at) "
        # 48 bits of milliseconds then 80 bits of i: time-ordered, unique per fill.
        "SELECT (lpad(to_hex((extract(epoch FROM now()) * 1000)::bigint), 12, '0') "
        "|| lpad(to_hex(i), 20, '0'))::uuid, "
        f"'{name}', 1, now(), 'bench', 'bench', NULL, '', jsonb_build_object('n', i), "
        f"{'now()' if dispatched else 'NULL'} "
        f"FROM generate_series({first}, {first + count - 1}) AS i"
    )
