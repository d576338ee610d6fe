"""Per-aggregate order: whether an ordered handler's delivery must wait for an earlier event."""

import uuid
from collections.abc import Collection
from datetime import timedelta

from django.db.models import Q

from eventbus.envelope import Envelope
from eventbus.models import Delivery, OutboxMessage
from eventbus.subscriptions import Subscription, all_subscriptions

#: How soon a waiting delivery looks again whether the event before it got through.
WAIT_RECHECK = timedelta(seconds=1)

_UNSETTLED = [Delivery.Status.FAILED, Delivery.Status.WAITING, Delivery.Status.DEAD]


def blocking_event(
    sub: Subscription,
    envelope: Envelope,
    *,
    using: str,
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
    earlier = OutboxMessage.objects.using(using).filter(
        aggregate_id=envelope.aggregate_id, id__lt=envelope.event_id
    )
    undispatched = Q(dispatched_at__isnull=True) & ~Q(id__in=list(settled))
    unsettled = Q(
        deliveries__handler__in=ordered_handlers_of(sub.module),
        deliveries__status__in=_UNSETTLED,
    )
    return (
        earlier.filter(undispatched | unsettled).order_by("id").values_list("id", flat=True).first()
    )


def ordered_handlers_of(module: str) -> list[str]:
    """The ids of the ordered handlers of one module (they keep order among themselves)."""
    return [s.handler_id for s in all_subscriptions() if s.ordered and s.module == module]


def waiting_note(blocker: uuid.UUID, envelope: Envelope) -> str:
    return f"waits for earlier event {blocker} of aggregate {envelope.aggregate_id!r}"
