"""Relay throughput to RabbitMQ with publisher confirms, against a bare unconfirmed publisher.

Relay: N pending outbox rows (inserted with SQL into a throwaway PostgreSQL database) are
drained with eventbus.broker.relay.relay_batch: claim a batch (SKIP LOCKED), publish it with many
confirms in flight, wait for them, mark the confirmed rows sent, commit. Bare: the same
N messages (same body, headers, persistence, routing) published on a py-amqp channel
without confirms, then one round trip so the broker has them all. Both go to the same
private exchange, bound to one durable queue that is purged between rounds. The sides
alternate in rounds; the ratio is the median over rounds of the two adjacent rates.

    python bench/relay_throughput.py [--messages 5000] [--rounds 7] [--batch-size 500]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _broker import BROKER_URL, delete, drop_database, private_names
from _django import setup

FILL = """
INSERT INTO eventbus_outboxmessage
    (id, name, version, occurred_at, producer, correlation_id, aggregate_id, payload, broker)
SELECT gen_random_uuid(), 'bench.benchmark_ticked', 1, now(), 'bench', 'bench-relay', '',
       jsonb_build_object('n', i, 'label', 'tick'), 'pending'
FROM generate_series(1, %s) AS i
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000, help="messages per round and side")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=500, help="rows per relay batch")
    args = parser.parse_args()
    names = private_names("relay")
    setup("postgres", "relay_throughput")
    sink = f"{names['QUEUE_PREFIX']}sink"
    try:
        run(args, names["EXCHANGE"], sink)
    finally:
        delete(names["EXCHANGE"], [sink])
        drop_database()


def run(args: argparse.Namespace, exchange: str, sink: str) -> None:
    import kombu
    from django.db import connection

    from eventbus.broker.amqp import ConfirmingPublisher, to_amqp
    from eventbus.broker.relay import relay_batch
    from eventbus.broker.topology import declare_exchange
    from eventbus.broker.wire import encode
    from eventbus.conf import bus_settings
    from eventbus.models import OutboxMessage
    from eventbus.storage import envelope_of

    bare_connection = kombu.Connection(BROKER_URL)
    bare_connection.connect()
    channel = bare_connection.channel()
    declare_exchange(channel, exchange)
    channel.queue_declare(sink, durable=True, auto_delete=False)
    channel.queue_bind(sink, exchange, routing_key="#")
    publisher = ConfirmingPublisher(BROKER_URL, exchange, bus_settings.CONFIRM_TIMEOUT_SECONDS)

    def fill(n: int) -> None:
        OutboxMessage.objects.all().delete()
        with connection.cursor() as cursor:
            cursor.execute(FILL, [n])
        channel.queue_purge(sink)

    def relay(n: int) -> float:
        fill(n)
        start = time.perf_counter()
        sent = 0
        while True:
            result = relay_batch(publisher, using="default", batch_size=args.batch_size)
            if not result.claimed:
                break
            sent += result.confirmed
        elapsed = time.perf_counter() - start
        assert sent == n, f"{sent} of {n} confirmed"
        assert OutboxMessage.objects.filter(broker="sent").count() == n
        return n / elapsed

    def bare(n: int) -> float:
        fill(n)  # the same rows, encoded the same way, published without confirms
        messages = [to_amqp(encode(envelope_of(row))) for row in OutboxMessage.objects.all()]
        keys = [m.application_headers["x-event-name"] + ".v1" for m in messages]
        start = time.perf_counter()
        for message, key in zip(messages, keys, strict=True):
            channel.basic_publish(message, exchange, key)
        channel.queue_declare(sink, passive=True)  # one round trip: the broker has them
        return n / (time.perf_counter() - start)

    relay(500), bare(500)  # warm-up: connections, statement caches
    relay_rates, bare_rates = [], []
    for _ in range(args.rounds):
        bare_rates.append(bare(args.messages))
        relay_rates.append(relay(args.messages))
    publisher.close()
    bare_connection.release()

    ratio = statistics.median(r / b for r, b in zip(relay_rates, bare_rates, strict=True))
    print(f"messages per side: {args.rounds} x {args.messages}, relay batches of {args.batch_size}")
    print(f"bare publish, no confirms:               {statistics.median(bare_rates):8.0f} msgs/s")
    print(f"relay: claim, publish, confirms, mark:   {statistics.median(relay_rates):8.0f} msgs/s")
    print(f"ratio relay/bare (median of rounds):     {ratio:8.2f}x  (target >= 0.5x)")


if __name__ == "__main__":
    main()
