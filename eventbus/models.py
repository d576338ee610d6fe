"""The bus's tables: the outbox of published envelopes and the per-handler deliveries."""

from django.db import models
from django.db.models import Q

from eventbus.ids import uuid7


class OutboxMessage(models.Model):
    """One published event, written in the publisher's transaction. The source of truth."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False, verbose_name="event id")
    name = models.CharField(max_length=200, db_index=True)
    version = models.PositiveIntegerField()
    occurred_at = models.DateTimeField()
    producer = models.CharField(max_length=100)
    correlation_id = models.CharField(max_length=64, db_index=True)
    causation_id = models.UUIDField(null=True, blank=True)
    payload = models.JSONField()
    dispatched_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When every subscriber had a delivery record; empty while dispatch is due.",
    )

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(
                fields=["occurred_at"],
                name="eventbus_outbox_undispatched",
                condition=Q(dispatched_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version} {self.id}"


class Delivery(models.Model):
    """The state of one (event, handler) pair: succeeded once, or failing with retries."""

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        DEAD = "dead"
        DISCARDED = "discarded"

    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="deliveries")
    handler = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=Status.choices)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    last_traceback = models.TextField(blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["message", "handler"], name="eventbus_delivery_once"),
            models.CheckConstraint(
                condition=Q(status="failed", next_attempt_at__isnull=False) | ~Q(status="failed"),
                name="eventbus_failed_has_next_attempt",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="eventbus_delivery_due",
                condition=Q(status="failed"),
            ),
            models.Index(fields=["handler", "status"], name="eventbus_delivery_handler"),
        ]

    def __str__(self) -> str:
        return f"{self.handler} <- {self.message_id} ({self.status})"


class DeadLetter(Delivery):
    """Proxy over deliveries that ran out of attempts, so the admin can list them apart."""

    class Meta:
        proxy = True
        verbose_name = "dead letter"
