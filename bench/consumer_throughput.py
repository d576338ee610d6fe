"""Consumer throughput with per-handler dedup, against a bare consume-and-ack loop.

Consumer: eventbus.broker.consumer.Consumer, in this process, on a throwaway PostgreSQL database,
with one no-op handler: every batch that arrives (up to the prefetch of 200) is decoded,
validated, looked up by event id, stored as inbox rows, delivered with a delivery record
per handler and committed, then acknowledged with one ack. Bare: a py-amqp basic_consume
on another queue with the same prefetch whose callback acks each message. Both queues are
filled beforehand (untimed) with the same N messages per round (fresh event ids). The
sides alternate in rounds; the ratio is the median over rounds of the two adjacent rates.

    python bench/consumer_throughput.py [--messages 5000] [--rounds 7]
"""

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _broker import BROKER_URL, delete, drop_database, private_names
from _django import setup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000, help="messages per round and side")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    names = private_names("consumer")
    setup("postgres", "consumer_throughput")
    queue, bare_queue = f"{names['QUEUE_PREFIX']}bench.events", f"{names['QUEUE_PREFIX']}bare"
    try:
        run(args, names["EXCHANGE"], queue, bare_queue)
    finally:
        delete(names["EXCHANGE"], [queue, bare_queue])
        drop_database()


def run(args: argparse.Namespace, exchange: str, queue: str, bare_queue: str) -> None:
    import kombu
    from django.utils import timezone

    from eventbus import Event, subscriber
    from eventbus.broker.amqp import ConfirmingPublisher, to_amqp
    from eventbus.broker.consumer import Consumer
    from eventbus.broker.wire import encode
    from eventbus.envelope import Envelope
    from eventbus.models import Delivery, OutboxMessage

    class RemoteTicked(Event):  # produced by a module that is not installed here
        event_name = "remote.remote_ticked"
        event_version = 1
        n: int
        label: str

    def noop(event: RemoteTicked) -> None:
        return None

    noop.__module__ = "bench"  # its queue is "<prefix>bench.events"
    subscriber(RemoteTicked)(noop)

    def wire(n: int) -> list:
        return [
            encode(
                Envelope(
                    event_id=uuid.uuid4(),
                    name=RemoteTicked.event_name,
                    version=1,
                    occurred_at=timezone.now(),
                    producer="remote",
                    correlation_id="bench-consumer",
                    causation_id=None,
                    payload={"n": i, "label": "tick"},
                )
            )
            for i in range(n)
        ]

    consumer = Consumer(poll=0.5)
    assert list(consumer.queues) == [queue], consumer.queues
    consumer._transport.connect()  # declares the queue and its binding
    publisher = ConfirmingPublisher(BROKER_URL, exchange, 30)
    connection = kombu.Connection(BROKER_URL)
    connection.connect()
    channel = connection.channel()
    channel.queue_declare(bare_queue, durable=True, auto_delete=False)
    channel.basic_qos(0, 200, False)
    received = [0]

    def on_bare(message) -> None:
        received[0] += 1
        channel.basic_ack(message.delivery_tag)

    def fill(n: int, to_queue: str | None) -> None:
        messages = wire(n)
        if to_queue is None:  # through the exchange, as the relay sends them
            assert all(publisher.publish_many(messages))
            return
        for message in messages:  # the same messages, straight into the bare queue
            channel.basic_publish(to_amqp(message), "", to_queue)
        channel.queue_declare(to_queue, passive=True)

    def bus(n: int) -> float:
        fill(n, None)
        before = consumer.totals.stored
        start = time.perf_counter()
        while consumer.totals.stored - before < n:
            consumer._transport.poll(timeout=5)
        return n / (time.perf_counter() - start)

    def bare(n: int) -> float:
        fill(n, bare_queue)
        received[0] = 0
        start = time.perf_counter()
        tag = channel.basic_consume(bare_queue, callback=on_bare)
        while received[0] < n:
            connection.drain_events(timeout=5)
        elapsed = time.perf_counter() - start
        channel.basic_cancel(tag)
        return n / elapsed

    bus(500), bare(500)  # warm-up
    bus_rates, bare_rates = [], []
    for _ in range(args.rounds):
        bare_rates.append(bare(args.messages))
        bus_rates.append(bus(args.messages))
    consumer._transport.close()
    publisher.close()
    connection.release()

    expected = 500 + args.rounds * args.messages
    assert OutboxMessage.objects.filter(broker="received").count() == expected
    assert Delivery.objects.filter(status="succeeded").count() == expected
    ratio = statistics.median(b / a for a, b in zip(bare_rates, bus_rates, strict=True))
    print(f"messages per side: {args.rounds} x {args.messages}, prefetch 200")
    print(f"bare consume + ack each:                 {statistics.median(bare_rates):8.0f} msgs/s")
    print(f"consumer: dedup, store, deliver, commit: {statistics.median(bus_rates):8.0f} msgs/s")
    print(f"ratio consumer/bare (median of rounds):  {ratio:8.2f}x  (target >= 0.5x)")


if __name__ == "__main__":
    main()
