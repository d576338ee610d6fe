"""Failed deliveries and dead letters grouped by handler and exception type, and acting on a
whole group: retry it, or discard it, through the dead-letter operations.

A group is (handler, exception type, status), where the exception type is what the engine
wrote before ": " in the delivery's last error (``RuntimeError`` of ``RuntimeError: down``).
The grouping is one aggregate over the rows of the partial index of unsettled deliveries
(``eventbus_delivery_unsettled``), so a long history of successes costs it nothing.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Case, CharField, Count, Max, QuerySet, Value, When
from django.db.models.functions import Left, StrIndex

from eventbus.models import Delivery
from eventbus.operations.dead_letters import Retried, discard_dead_letters, retry_deliveries

#: The statuses a group can have: failed (will retry) and dead.
GROUPED_STATUSES = (Delivery.Status.FAILED, Delivery.Status.DEAD)

#: The most deliveries one group action retries (each runs its handler in this request);
#: a larger group is worked through by acting again, or with `eventbus dead-letters retry`.
GROUP_ACTION_LIMIT = 500

#: What an error with no "Type: " prefix is grouped under.
UNTYPED = "(no exception type)"


@dataclass(frozen=True)
class FailureGroup:
    """The deliveries of one handler in one status whose last error has one exception type.

    ``newest_at`` is the latest update among them; the sample is the newest delivery of the
    group: its id, its event's name and id, and its last error's first line."""

    handler: str
    error_type: str
    status: str
    count: int
    newest_at: datetime
    sample_id: int
    sample_event: str
    sample_event_id: uuid.UUID
    sample_error: str


def _error_type() -> Case:
    """The text before the first ": " of ``last_error``, in SQL (portable functions)."""
    colon = StrIndex("last_error", Value(": "))
    return Case(
        When(last_error__contains=": ", then=Left("last_error", colon - 1)),
        default=Value(UNTYPED),
        output_field=CharField(),
    )


def _unsettled(using: str) -> QuerySet[Delivery]:
    # The exclude lets PostgreSQL match the partial index's own predicate.
    return (
        Delivery.objects.using(using)
        .exclude(status=Delivery.Status.SUCCEEDED)
        .filter(status__in=GROUPED_STATUSES)
        .order_by()
    )


def failure_groups(*, using: str = DEFAULT_DB_ALIAS) -> list[FailureGroup]:
    """Every group with at least one delivery, newest first. Two read-only queries: the
    aggregate, then the sample deliveries with their events."""
    grouped = list(
        _unsettled(using)
        .annotate(error_type=_error_type())
        .values("handler", "error_type", "status")
        .annotate(count=Count("pk"), newest_at=Max("updated_at"), sample_id=Max("pk"))
    )
    samples = {
        d.pk: d
        for d in Delivery.objects.using(using)
        .filter(pk__in=[row["sample_id"] for row in grouped])
        .select_related("message")
        .only("last_error", "message__id", "message__name")
    }
    groups = []
    for row in grouped:
        sample = samples.get(row["sample_id"])
        if sample is None:  # settled between the two queries
            continue
        lines = sample.last_error.strip().splitlines()
        groups.append(
            FailureGroup(
                handler=row["handler"],
                error_type=row["error_type"],
                status=row["status"],
                count=row["count"],
                newest_at=row["newest_at"],
                sample_id=sample.pk,
                sample_event=sample.message.name,
                sample_event_id=sample.message.id,
                sample_error=lines[0] if lines else "",
            )
        )
    groups.sort(key=lambda g: (g.newest_at, g.sample_id), reverse=True)
    return groups


def failure_group_ids(
    *,
    handler: str,
    error_type: str,
    status: str,
    limit: int = GROUP_ACTION_LIMIT,
    using: str = DEFAULT_DB_ALIAS,
) -> list[int]:
    """The ids of the group's deliveries, oldest first, at most ``limit``; empty for a
    status that is not grouped or a group with no delivery."""
    if status not in GROUPED_STATUSES:
        return []
    return list(
        _unsettled(using)
        .alias(error_type=_error_type())
        .filter(handler=handler, error_type=error_type, status=status)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def failure_group_retry(
    *, handler: str, error_type: str, status: str, using: str = DEFAULT_DB_ALIAS
) -> list[Retried]:
    """Retry the group's oldest GROUP_ACTION_LIMIT deliveries now, each in its own
    transaction through the delivery engine (``dead_letters.retry_deliveries``)."""
    ids = failure_group_ids(handler=handler, error_type=error_type, status=status, using=using)
    return retry_deliveries(ids, using=using)


def failure_group_discard(*, handler: str, error_type: str, using: str = DEFAULT_DB_ALIAS) -> int:
    """Discard the dead letters of the group (its oldest GROUP_ACTION_LIMIT): kept on record,
    never retried (``dead_letters.discard_dead_letters``). Returns how many."""
    ids = failure_group_ids(
        handler=handler, error_type=error_type, status=Delivery.Status.DEAD, using=using
    )
    return discard_dead_letters(ids, using=using)
