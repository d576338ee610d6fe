"""A private exchange and queues on the local RabbitMQ for a benchmark, deleted afterwards."""

import os
import uuid

BROKER_URL = os.environ.get("BENCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")


def private_names(bench: str) -> dict[str, str]:
    """Unique names, exported as the EVENTBUS_* variables the settings read."""
    tag = uuid.uuid4().hex[:8]
    names = {"EXCHANGE": f"bench-{bench}-{tag}", "QUEUE_PREFIX": f"bench-{bench}-{tag}."}
    os.environ.update(
        EVENTBUS_TRANSPORT="amqp",
        EVENTBUS_BROKER_URL=BROKER_URL,
        EVENTBUS_EXCHANGE=names["EXCHANGE"],
        EVENTBUS_QUEUE_PREFIX=names["QUEUE_PREFIX"],
    )
    return names


def delete(exchange: str, queues: list[str]) -> None:
    import kombu

    from eventbus.broker.topology import delete_topology

    with kombu.Connection(BROKER_URL) as connection:
        delete_topology(connection.channel(), exchange, queues)


def drop_database() -> None:
    """Drop the benchmark's PostgreSQL database (Django's connections closed first)."""
    import psycopg
    from django.db import connections

    settings = connections["default"].settings_dict
    if connections["default"].vendor != "postgresql":
        return
    connections.close_all()
    server = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{settings["NAME"]}" WITH (FORCE)')
