"""The broker as an operator sees it: the bus's names for a deployment's queues and
exchanges, the messages in a queue, and the connections of a process (rabbitmqctl)."""

import subprocess
from typing import Any

import kombu
from django.conf import settings
from django.test import override_settings

from eventbus.broker.topology import delete_topology
from eventbus.broker.topology import queue_name as bus_queue_name
from tests.support.processes import client_ports
from tools.split import MODULES, SplitConfig, rabbitmqctl


def unreachable(broker: str) -> str | None:
    """None if RabbitMQ at ``broker`` answers, else why not."""
    try:
        with kombu.Connection(broker, connect_timeout=3) as connection:
            connection.connect()
    except Exception as exc:  # kombu raises whatever the transport does
        return f"RabbitMQ at {broker} ({exc})"
    return None


def queue_name(config: SplitConfig, module: str) -> str:
    """The queue of ``module``'s consumer in the deployment, named by the bus itself."""
    bus = {**getattr(settings, "EVENTBUS", {}), "QUEUE_PREFIX": config.queue_prefix}
    with override_settings(EVENTBUS=bus):
        return bus_queue_name(module)


def delete_broker_objects(config: SplitConfig) -> None:
    """Every queue and exchange the bus declares for the deployment's modules, deleted."""
    queues = [queue_name(config, module) for module in MODULES]
    with kombu.Connection(config.broker) as connection:
        delete_topology(connection.channel(), config.exchange, queues)


def get_all(broker: str, queue: str) -> list[Any]:
    """Every message now in a queue, taken off it."""
    messages = []
    with kombu.Connection(broker) as connection:
        channel = connection.channel()
        while (message := channel.basic_get(queue, no_ack=True)) is not None:
            messages.append(message)
    return messages


def rabbitmqctl_unusable() -> str | None:
    """None if rabbitmqctl can list connections here, else why not."""
    try:
        rabbitmqctl("list_connections", "name", timeout=30)
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return None


def broker_connections(broker: str, pid: int) -> list[str]:
    """RabbitMQ's ids of the process's connections to ``broker`` (matched by client port)."""
    ports = client_ports(pid, kombu.Connection(broker).port or 5672)
    listing = rabbitmqctl("list_connections", "pid", "peer_port")  # "<rabbit@host.1.2.3>\t46268"
    found = []
    for line in listing.splitlines():
        connection, _, port = line.rpartition("\t")
        if port.strip().isdigit() and int(port) in ports:
            found.append(connection.strip())
    return found


def close_connections(connections: list[str]) -> None:
    """Have RabbitMQ close these connections (as a broker restart or a network cut would),
    and only these: the broker is shared. All at once: rabbitmqctl takes seconds to start."""
    running = [
        subprocess.Popen(
            ["rabbitmqctl", "-q", "close_connection", c, "split test: connection cut"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for c in connections
    ]
    for process in running:
        _, err = process.communicate(timeout=60)
        if process.returncode != 0:
            raise RuntimeError(f"rabbitmqctl close_connection failed: {err.strip()}")


def user_names() -> set[str]:
    """Every user of the broker, as `rabbitmqctl list_users` lists them."""
    listing = rabbitmqctl("list_users", "--no-table-headers")
    return {line.split("\t")[0] for line in listing.splitlines() if line.strip()}


def user_permissions(user: str) -> dict[str, list[tuple[str, ...]]]:
    """A user's permissions as rabbitmqctl lists them: ``vhosts`` (vhost, configure, write,
    read) from list_user_permissions, ``topics`` (vhost, exchange, write, read) from
    list_user_topic_permissions, each sorted."""

    def rows(*args: str) -> list[tuple[str, ...]]:
        listing = rabbitmqctl(*args, user, "--no-table-headers")
        return sorted(tuple(line.split("\t")) for line in listing.splitlines() if line.strip())

    return {
        "vhosts": rows("list_user_permissions"),
        "topics": rows("list_user_topic_permissions"),
    }
