"""The store on MariaDB 10.6+: the portable store, with claims that lock one table.

MariaDB has ``FOR UPDATE SKIP LOCKED``, so any number of workers share the outbox, but no
``FOR UPDATE OF``: a locking read of a join locks the rows of every table in it. The claims
of due deliveries and ``lock_delivery`` therefore lock the delivery rows alone and read
their events' outbox rows afterwards, without a lock (an outbox row's envelope never changes).
Locking the outbox rows too would make a due retry skip, or wait for, an event another
worker holds for an unrelated reason, and could deadlock with it.

What MariaDB cannot do, it leaves at the interface's defaults: no relaxed commits (its
``innodb_flush_log_at_trx_commit`` is server-wide, not per transaction), and no listener (it
has no LISTEN/NOTIFY: the worker polls every ``--poll`` seconds).

It expects the READ COMMITTED isolation level (Django's default for MySQL and MariaDB):
under REPEATABLE READ a locking read also takes gap locks, which block publishers inserting
outbox rows behind a claim.
"""

import uuid
from collections.abc import Collection
from datetime import datetime

from django.db.models import Q

from eventbus.envelope import Envelope
from eventbus.models import DUE, Delivery, OutboxMessage
from eventbus.storage.base import DeliveryRow
from eventbus.storage.portable import PortableStore, envelope_of, row_of


class MariaDBStore(PortableStore):
    """The portable store whose delivery claims lock the delivery rows alone."""

    def claim_due(
        self, *, limit: int, now: datetime, queues: Collection[str] | None = None
    ) -> list[tuple[DeliveryRow, Envelope]]:
        due = Delivery.objects.using(self.using).filter(status__in=DUE, next_attempt_at__lte=now)
        if queues is not None:
            due = due.filter(Q(queue="") | Q(queue__in=list(queues)))
        ordered = due.order_by("-priority", "next_attempt_at", "id")
        claimed = list(ordered.select_for_update(skip_locked=True)[:limit])
        envelopes = self._envelopes({d.message_id for d in claimed})
        return [(row_of(d), envelopes[d.message_id]) for d in claimed]

    def lock_delivery(self, delivery_id: int) -> tuple[DeliveryRow, Envelope] | None:
        rows = Delivery.objects.using(self.using).select_for_update().filter(pk=delivery_id)
        delivery = rows.first()
        if delivery is None:
            return None
        return row_of(delivery), self._envelopes({delivery.message_id})[delivery.message_id]

    def _envelopes(self, event_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Envelope]:
        """The envelopes of these events, read without a lock."""
        if not event_ids:
            return {}
        rows = OutboxMessage.objects.using(self.using).filter(pk__in=list(event_ids))
        return {row.pk: envelope_of(row) for row in rows}
