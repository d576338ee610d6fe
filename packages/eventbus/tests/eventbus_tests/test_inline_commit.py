"""Inline delivery's last write: the success record, sent with the COMMIT where the store can.

On PostgreSQL with parameters bound on the client (Django's default) the handler's
transaction ends with one query string, the record and then COMMIT, one round trip less;
with server-side binding and prepared statements (this project's default there) the record
is a prepared statement of its own and the COMMIT follows. Either way the guarantees are
those of a separate COMMIT: the effects and the record commit together, a failed record
commits nothing, the on-commit callbacks run after it. Each test runs with both bindings on
PostgreSQL, and on SQLite, where the block's exit commits.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from eventbus import publish
from eventbus.delivery.inline import dispatch
from eventbus.models import Delivery, OutboxMessage
from eventbus.storage.portable import envelope_of
from eventbus_tests.sample import OtherThingHappened, ThingHappened

# Out of the redelivery drill: these tests read the statements of one delivery exactly.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.eventbus_redeliver(False)]

POSTGRESQL = connection.vendor == "postgresql"


def _on_psycopg3() -> bool:
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    return is_psycopg3


#: Server-side binding is psycopg 3's; psycopg2 always binds on the client.
BINDINGS = (["client", "server"] if _on_psycopg3() else ["client"]) if POSTGRESQL else ["sqlite"]


@pytest.fixture(autouse=True, params=BINDINGS)
def binding(request: pytest.FixtureRequest) -> Iterator[str]:
    """Where the connection binds parameters: "client" (Django's default) or "server" with
    prepared statements (config/settings/base.py), each on a new connection."""
    if not POSTGRESQL:
        yield request.param
        return
    options = connection.settings_dict["OPTIONS"]
    saved = dict(options)
    options.pop("server_side_binding", None)
    options.pop("prepare_threshold", None)
    if request.param == "server":
        options.update(server_side_binding=True, prepare_threshold=5)
    connection.close()
    try:
        yield request.param
    finally:
        options.clear()
        options.update(saved)
        connection.close()


def reacts(event: ThingHappened) -> None:
    """Its effect: an event of its own, so a row in the outbox."""
    publish(OtherThingHappened(thing_id=event.thing_id))


def names() -> list[str]:
    return sorted(OutboxMessage.objects.values_list("name", flat=True))


def test_the_record_carries_the_commit_and_effects_and_record_stand(
    subscribe: Any, binding: str
) -> None:
    # given
    subscribe(ThingHappened, reacts)
    after_commit: list[bool] = []

    # when the event is delivered inline (the handler's block is the outermost)
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        publish(ThingHappened(thing_id=1))
        transaction.on_commit(lambda: after_commit.append(True))

    # then where parameters bind on the client, the record's statement ends the transaction
    records = [q["sql"] for q in captured.captured_queries if "eventbus_delivery" in q["sql"]]
    assert len(records) == 1
    assert records[0].endswith("; COMMIT") is (binding == "client")
    # and the handler's effect, its record and the dispatched mark are committed
    assert names() == ["samples.other_thing_happened", "samples.thing_happened"]
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.SUCCEEDED, 1)
    assert OutboxMessage.objects.get(name="samples.thing_happened").dispatched_at is not None
    assert after_commit == [True]
    # and the connection is back in autocommit mode, out of any transaction
    assert connection.get_autocommit() and not connection.in_atomic_block


def test_a_record_that_fails_commits_none_of_the_handlers_effects(subscribe: Any) -> None:
    # given the delivery was recorded already (another process delivered it first)
    subscribe(ThingHappened, reacts)
    handler_id = f"{__name__}.reacts"

    # when the event is delivered inline and its record meets the existing row
    with transaction.atomic():
        envelope = publish(ThingHappened(thing_id=2))
        Delivery.objects.create(
            message_id=envelope.event_id,
            handler=handler_id,
            status=Delivery.Status.SUCCEEDED,
            attempts=1,
            created_at=timezone.now(),
            updated_at=timezone.now(),
        )

    # then the handler's effect rolled back with the record: only the event itself
    assert names() == ["samples.thing_happened"]
    assert list(Delivery.objects.values_list("handler", "attempts")) == [(handler_id, 1)]
    # and the row is marked dispatched (its delivery stands), the connection usable
    assert OutboxMessage.objects.get().dispatched_at is not None
    assert connection.get_autocommit() and not connection.in_atomic_block


def test_inside_an_enclosing_block_the_record_leaves_the_commit_to_it(subscribe: Any) -> None:
    # given a delivery run inside a transaction of the caller's (not the outermost)
    subscribe(ThingHappened, reacts)
    with transaction.atomic():
        publish(ThingHappened(thing_id=3))
        transaction.get_connection().run_on_commit = []  # its inline dispatch never runs

    # when it is redelivered inside a block that then rolls back
    envelope = envelope_of(OutboxMessage.objects.get())
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        dispatch(envelope, envelope.event())
        transaction.set_rollback(True)

    # then no statement committed on its own: everything rolled back with the block
    assert not any(q["sql"].endswith("; COMMIT") for q in captured.captured_queries)
    assert names() == ["samples.thing_happened"]
    assert Delivery.objects.count() == 0
