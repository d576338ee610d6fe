"""The broker's names and layout, in one place: routing keys, queues and their declarations.

    exchange  <EXCHANGE>                  durable topic; unroutable messages go to the
                                          alternate exchange <EXCHANGE>.unrouted, whose
                                          durable queue of the same name keeps them
    exchange  <EXCHANGE>.dead-letter      durable topic; routing key = the queue name
    queue     <QUEUE_PREFIX><module>.events              one per consuming module, a quorum
                                                         queue bound to "<event name>.*" for
                                                         each event its handlers take; after
                                                         DELIVERY_LIMIT redeliveries the broker
                                                         moves a message to its dead letters
    queue     <QUEUE_PREFIX><module>.events.dead-letter  quorum; what could not be read, with
                                                         why, bound to the dead-letter exchange

Routing key of an event version: "<event name>.v<version>". The AsyncAPI document, the
consumer, the relay and the split deployment's broker permissions all take their names
from here.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eventbus.boundaries.modules import code_owner, module_names, producer_of
from eventbus.conf import bus_settings
from eventbus.events import Event, registered_events
from eventbus.subscriptions import all_subscriptions


def routing_key(name: str, version: int) -> str:
    """The routing key of one event version, e.g. ``orders.order_placed.v1``."""
    return f"{name}.v{version}"


def binding_key(name: str) -> str:
    """The binding that receives every version of an event (upcast on arrival)."""
    return f"{name}.*"


def queue_name(module: str) -> str:
    """The durable queue a consuming module reads its events from."""
    return f"{bus_settings.QUEUE_PREFIX}{module}.events"


def dead_letter_queue(queue: str) -> str:
    return f"{queue}.dead-letter"


def dead_letter_exchange(exchange: str) -> str:
    """The topic exchange that routes a queue's dead letters (routing key: the queue name).

    A topic exchange, not the default one, so that a service's broker user can be allowed
    to dead-letter into its own queues' dead-letter queues only (topic permissions)."""
    return f"{exchange}.dead-letter"


def unrouted_exchange(exchange: str) -> str:
    """The alternate exchange (and its queue) that keeps messages no queue is bound for."""
    return f"{exchange}.unrouted"


def produced_here(cls: type[Event]) -> bool:
    """Whether a module installed in this process defines the event (its producer, as the
    catalogue names it: eventbus.boundaries.modules.producer_of), or it is the bus's own."""
    return cls.internal or producer_of(cls) in module_names()


def consumed_queues() -> dict[str, list[str]]:
    """Queue per consuming module -> binding keys, for the events this process subscribes
    to and that no installed module produces (those arrive locally, through the outbox, as
    do the bus's own internal events)."""
    queues: dict[str, set[str]] = {}
    for sub in all_subscriptions():
        if produced_here(sub.event):
            continue
        queues.setdefault(queue_name(code_owner(sub.handler_id)), set()).add(
            binding_key(sub.event.event_name)
        )
    return {queue: sorted(keys) for queue, keys in sorted(queues.items())}


def quorum_arguments(**more: Any) -> dict[str, Any]:
    return {"x-queue-type": "quorum", **more}


def declare_exchange(channel: Any, exchange: str) -> None:
    """Declare the topic exchange, its alternate exchange and queue, and its dead-letter
    exchange (idempotent)."""
    unrouted = unrouted_exchange(exchange)
    channel.exchange_declare(
        dead_letter_exchange(exchange), "topic", durable=True, auto_delete=False
    )
    channel.exchange_declare(unrouted, "fanout", durable=True, auto_delete=False)
    channel.queue_declare(unrouted, durable=True, auto_delete=False)
    channel.queue_bind(unrouted, unrouted, routing_key="")
    channel.exchange_declare(
        exchange,
        "topic",
        durable=True,
        auto_delete=False,
        arguments={"alternate-exchange": unrouted},
    )


def declare_queue(channel: Any, exchange: str, queue: str, bindings: Iterable[str]) -> None:
    """Declare a module's quorum queue, its dead-letter queue and their bindings (idempotent).

    The broker itself dead-letters a message delivered DELIVERY_LIMIT times without an
    ack. Declaring over an existing classic queue of the same name fails with
    PRECONDITION_FAILED (a queue's type cannot change): see docs/split-mode.md."""
    dead_letters = dead_letter_exchange(exchange)
    channel.queue_declare(
        dead_letter_queue(queue), durable=True, auto_delete=False, arguments=quorum_arguments()
    )
    channel.queue_bind(dead_letter_queue(queue), dead_letters, routing_key=queue)
    channel.queue_declare(
        queue,
        durable=True,
        auto_delete=False,
        arguments=quorum_arguments(
            **{
                "x-delivery-limit": bus_settings.DELIVERY_LIMIT,
                "x-dead-letter-exchange": dead_letters,
                "x-dead-letter-routing-key": queue,
            }
        ),
    )
    for key in bindings:
        channel.queue_bind(queue, exchange, routing_key=key)


def delete_topology(channel: Any, exchange: str, queues: Iterable[str]) -> None:
    """Delete what declare_exchange and declare_queue made for ``exchange`` and ``queues``
    (a private test or benchmark deployment; never needed in production)."""
    unrouted = unrouted_exchange(exchange)
    for queue in [*queues, unrouted]:
        channel.queue_delete(queue)
        if queue != unrouted:
            channel.queue_delete(dead_letter_queue(queue))
    channel.exchange_delete(exchange)
    channel.exchange_delete(unrouted)
    channel.exchange_delete(dead_letter_exchange(exchange))


@dataclass(frozen=True)
class BrokerPermissions:
    """What a service's own broker user may do, as RabbitMQ regular expressions.

    ``configure``, ``write`` and ``read`` are the vhost permissions (on exchanges and
    queues by name); ``topics`` maps each topic exchange to the routing keys the user may
    publish there. Applied by ``rabbitmqctl set_permissions`` and
    ``set_topic_permissions`` (tools/split.py does it for the split deployment)."""

    configure: str
    write: str
    read: str
    topics: dict[str, str]


def _exactly(names: Iterable[str]) -> str:
    return "^(" + "|".join(re.escape(name) for name in sorted(set(names))) + ")$"


def service_permissions(exchange: str) -> BrokerPermissions:
    """The least this process needs: declare and use the exchanges, its own queues and
    their dead-letter queues, publish the events of the modules installed here (routing
    keys "<module>.…") and dead-letter into its own queues only."""
    producers = {cls.producer() for cls in registered_events() if produced_here(cls)}
    return permissions(exchange, queues=list(consumed_queues()), producers=producers)


def permissions(
    exchange: str, *, queues: Iterable[str], producers: Iterable[str]
) -> BrokerPermissions:
    """What a service that consumes ``queues`` and publishes the events of ``producers``
    (modules) needs on ``exchange``, and nothing more."""
    consumed = sorted(set(queues))
    own = [
        exchange,
        unrouted_exchange(exchange),  # an exchange and a queue of the same name
        dead_letter_exchange(exchange),
        *consumed,
        *(dead_letter_queue(queue) for queue in consumed),
    ]
    modules = sorted(set(producers))
    publishes = "^(" + "|".join(re.escape(p) for p in modules) + r")\..+$" if modules else "^$"
    names = _exactly(own)
    return BrokerPermissions(
        configure=names,
        write=names,
        read=names,
        topics={
            exchange: publishes,
            dead_letter_exchange(exchange): _exactly(consumed) if consumed else "^$",
        },
    )
