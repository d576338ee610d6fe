"""Per-aggregate order: whether an ordered handler's delivery must wait for an earlier event."""

import uuid
from collections.abc import Collection
from datetime import timedelta

from eventbus.envelope import Envelope
from eventbus.models import Delivery
from eventbus.storage import Store
from eventbus.subscriptions import Subscription, all_subscriptions

#: How soon a waiting delivery looks again whether the event before it got through.
WAIT_RECHECK = timedelta(seconds=1)

#: The statuses of an earlier delivery that keep a later one of its aggregate waiting.
UNSETTLED = (Delivery.Status.FAILED, Delivery.Status.WAITING, Delivery.Status.DEAD)


def blocking_event(
    sub: Subscription,
    envelope: Envelope,
    *,
    store: Store,
    settled: Collection[uuid.UUID] = (),
) -> uuid.UUID | None:
    """The id of an earlier event of the same aggregate that ``sub`` must wait for, or None.

    Only for ordered handlers of events with an aggregate id. An earlier event blocks while
    it is not yet dispatched (unless it is in ``settled``: delivered earlier in the caller's
    own transaction), or while its delivery to an ordered handler of the same module is
    failing, waiting or dead. One indexed query.
    """
    if not sub.ordered or not envelope.aggregate_id:
        return None
    return store.blocking_event(
        aggregate_id=envelope.aggregate_id,
        before=envelope.event_id,
        handlers=ordered_handlers_of(sub.module),
        unsettled=UNSETTLED,
        settled=settled,
    )


def ordered_handlers_of(module: str) -> list[str]:
    """The ids of the ordered handlers of one module (they keep order among themselves)."""
    return [s.handler_id for s in all_subscriptions() if s.ordered and s.module == module]


def waiting_note(blocker: uuid.UUID, envelope: Envelope) -> str:
    return f"waits for earlier event {blocker} of aggregate {envelope.aggregate_id!r}"
