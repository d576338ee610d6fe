"""The bus's tables: the outbox of published envelopes, per-handler deliveries and their
failed attempts, and the workers that deliver them."""

from django.db import models
from django.db.models import Q

from eventbus.ids import uuid7


class OutboxBroker(models.TextChoices):
    """Where an outbox row stands with the broker."""

    NONE = "", "local only"
    PENDING = "pending", "to be relayed to the broker"
    SENT = "sent", "relayed (confirmed by the broker)"
    RECEIVED = "received", "received from the broker"


class OutboxMessage(models.Model):
    """One published event, written in the publisher's transaction. The source of truth."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False, verbose_name="event id")
    name = models.CharField(max_length=200, db_index=True)
    version = models.PositiveIntegerField()
    occurred_at = models.DateTimeField()
    producer = models.CharField(max_length=100)
    correlation_id = models.CharField(max_length=64, db_index=True)
    causation_id = models.UUIDField(null=True, blank=True)
    aggregate_id = models.CharField(
        max_length=100,
        blank=True,
        default="",
        help_text="The entity the event is about (e.g. an order id), for per-aggregate order.",
    )
    payload = models.JSONField()
    traceparent = models.CharField(
        max_length=55,
        blank=True,
        default="",
        db_default="",
        help_text="The W3C trace context of the publishing span, empty when tracing is off.",
    )

    Broker = OutboxBroker

    broker = models.CharField(
        max_length=10, choices=Broker.choices, blank=True, default="", db_default=""
    )
    relayed_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When every subscriber had a delivery record; empty while dispatch is due.",
    )

    class Meta:
        ordering = ["-id"]
        indexes = [
            # The worker's claim: undispatched rows in id (= time) order. Partial, so it
            # stays as small as the backlog however much delivered history there is.
            models.Index(
                fields=["id"],
                name="eventbus_outbox_undispatched",
                condition=Q(dispatched_at__isnull=True),
            ),
            # The relay's claim: rows still to be sent to the broker.
            models.Index(
                fields=["id"],
                name="eventbus_outbox_unrelayed",
                condition=Q(broker=OutboxBroker.PENDING),
            ),
            models.Index(
                fields=["aggregate_id", "id"],
                name="eventbus_outbox_aggregate",
                condition=~Q(aggregate_id=""),
            ),
            models.Index(fields=["occurred_at"], name="eventbus_outbox_occurred"),
            # The dashboard's departures and deliveries a minute: rows dispatched in the last
            # hour. Partial, so publishing an undispatched row does not maintain it; marking
            # a row dispatched already updates every index (the partial ones above name the
            # column), so this is one more entry on an update that writes them anyway.
            models.Index(
                fields=["dispatched_at"],
                name="eventbus_outbox_dispatched",
                condition=Q(dispatched_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version} {self.id}"


class DeliveryStatus(models.TextChoices):
    """Where a delivery stands; failed and waiting ones are due again at next_attempt_at."""

    SUCCEEDED = "succeeded"
    FAILED = "failed", "failed (will retry)"
    WAITING = "waiting", "waiting for an earlier event of its aggregate"
    DEAD = "dead", "dead letter"
    DISCARDED = "discarded"


#: The statuses that are tried again when due.
DUE = [DeliveryStatus.FAILED, DeliveryStatus.WAITING]


class Delivery(models.Model):
    """The state of one (event, handler) pair: succeeded once, or on its way there."""

    Status = DeliveryStatus

    # No index of its own: the unique (message, handler) constraint starts with it. Every
    # index here is paid on each delivery the worker records.
    message = models.ForeignKey(
        OutboxMessage, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    handler = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=Status.choices)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    last_traceback = models.TextField(blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    # A task's (eventbus.tasks) priority and queue name; an event's deliveries keep the
    # defaults. Due deliveries are claimed higher priority first.
    priority = models.SmallIntegerField(default=0, db_default=0)
    queue = models.CharField(
        max_length=100,
        blank=True,
        default="",
        db_default="",
        help_text="A task's queue name; empty for an event's delivery.",
    )

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["message", "handler"], name="eventbus_delivery_once"),
            models.CheckConstraint(
                condition=Q(status__in=DUE, next_attempt_at__isnull=False) | ~Q(status__in=DUE),
                name="eventbus_due_has_next_attempt",
            ),
        ]
        indexes = [
            # The retry claim: due failed or waiting deliveries, higher priority (tasks)
            # first, in the claim's order, so a claim reads its batch and stops however
            # large the due backlog. Partial, like the outbox's.
            models.Index(
                fields=["-priority", "next_attempt_at", "id"],
                name="eventbus_delivery_due",
                condition=Q(status__in=DUE),
            ),
            # What operators look for: a handler's deliveries that did not succeed. Partial,
            # so recording a success (nearly every delivery) does not maintain it.
            models.Index(
                fields=["handler", "status"],
                name="eventbus_delivery_unsettled",
                condition=~Q(status=DeliveryStatus.SUCCEEDED),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.handler} <- {self.message_id} ({self.status})"


class DeadLetter(Delivery):
    """Proxy over deliveries that ran out of attempts, so the admin can list them apart."""

    class Meta:
        proxy = True
        verbose_name = "dead letter"


def _worker_field() -> "models.CharField[str, str]":
    """The process that made an attempt (eventbus.process.process_name())."""
    return models.CharField(
        max_length=200,
        blank=True,
        default="",
        db_default="",
        help_text=(
            "The process that made the attempt: the worker's or consumer's name as `eventbus "
            "stats` lists it, or host:pid for a web process or a command; empty before it "
            "was recorded."
        ),
    )


class DeliveryAttempt(models.Model):
    """One failed attempt of a delivery: its error and traceback, kept for the record."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="failures")
    number = models.PositiveIntegerField()
    error = models.TextField()
    traceback = models.TextField(blank=True, default="")
    failed_at = models.DateTimeField()
    worker = _worker_field()

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="eventbus_attempt_once"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}"


class TaskReturn(models.Model):
    """The return value of a task that succeeded (eventbus.tasks), written in the task's
    own transaction, so it commits with the task's effects and its success record."""

    message = models.OneToOneField(
        OutboxMessage,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="task_return",
        verbose_name="task (event id)",
    )
    value = models.JSONField(null=True)
    worker = _worker_field()

    def __str__(self) -> str:
        return f"return value of task {self.message_id}"


class Dashboard(OutboxMessage):
    """The operations dashboard's place in the admin: a proxy with no rows of its own, so the
    page is listed in the bus's section of the admin index and has a permission of its own
    (``eventbus.view_dashboard``), which a staff user needs to open it."""

    class Meta:
        proxy = True
        verbose_name = "dashboard"
        verbose_name_plural = "dashboard"
        default_permissions = ()
        permissions = [("view_dashboard", "Can view the event bus dashboard")]


class _Process(models.Model):
    """A running bus process, registered while it runs; its heartbeat says it is alive."""

    name = models.CharField(max_length=200, unique=True)
    hostname = models.CharField(max_length=200)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    heartbeat_at = models.DateTimeField()

    class Meta:
        abstract = True
        ordering = ["started_at"]

    def __str__(self) -> str:
        return self.name


class Worker(_Process):
    """A running `eventbus worker` process; its heartbeat says it is alive."""


class Consumer(_Process):
    """A running `eventbus consume` process and the queues it reads; its heartbeat says it
    is alive."""

    queues = models.JSONField(default=list)
