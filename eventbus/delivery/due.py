"""What is due, and delivering it: the one definition the worker and `eventbus retry` share.

Due are: failed and waiting deliveries whose next attempt time has come, and outbox rows
that no delivery finished (in inline mode, only those older than a grace period: the
publishing process may still be delivering them). Both are claimed in bounded batches.
"""

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone

from eventbus.delivery.batch import deliver_outbox_batch, retry_rows
from eventbus.delivery.engine import Outcome
from eventbus.storage import store_for

#: A row still undispatched this long after it occurred lost its inline dispatch (the
#: process died between commit and dispatch): the worker and `eventbus retry` finish it.
UNDISPATCHED_GRACE = timedelta(seconds=60)

#: How many rows one claim takes.
BATCH_SIZE = 100


def retry_due_batch(
    *,
    using: str = DEFAULT_DB_ALIAS,
    batch_size: int = BATCH_SIZE,
    now: datetime | None = None,
    queues: Collection[str] | None = None,
) -> list[Outcome]:
    """Claim up to ``batch_size`` failed or waiting deliveries due at ``now`` (default: now),
    higher priority first, and attempt each, in one transaction: each handler in a
    savepoint, so one failure does not undo the others' effects. Enqueued tasks are such
    deliveries; ``queues`` limits the tasks taken to those queues (default: every queue)."""
    store = store_for(using)
    with transaction.atomic(using=using):
        rows = store.claim_due(limit=batch_size, now=now or timezone.now(), queues=queues)
        if not rows:
            return []
        store.relax_commit()
        return retry_rows(store, rows)


@dataclass
class DueResult:
    """What one pass over the due work did."""

    messages: int = 0
    outcomes: list[Outcome] = field(default_factory=list)


def deliver_due(
    *,
    using: str = DEFAULT_DB_ALIAS,
    grace: timedelta | None = UNDISPATCHED_GRACE,
    batch_size: int = BATCH_SIZE,
) -> DueResult:
    """Deliver everything due when it starts, batch after batch, and return what was done.

    Outbox rows undispatched for ``grace`` (every undispatched row when ``grace`` is None)
    get their missing deliveries; failed and waiting deliveries due now are attempted once
    (one that fails again is due later, so a run always ends). Safe to run repeatedly, from
    cron, and beside workers (claims skip what another process holds).
    """
    started = timezone.now()
    stranded_before = started - grace if grace is not None else None
    total = DueResult()
    while True:
        batch = deliver_outbox_batch(
            using=using, batch_size=batch_size, occurred_before=stranded_before or started
        )
        retried = retry_due_batch(using=using, batch_size=batch_size, now=started)
        total.messages += batch.messages
        total.outcomes += batch.outcomes + retried
        if batch.messages < batch_size and len(retried) < batch_size:
            return total
