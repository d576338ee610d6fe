"""One counter row per (event, handler): how many times a handler's effect was applied."""

from django.db import models


class Effect(models.Model):
    """Incremented by the counting handlers with no idempotency of their own, so a second
    delivery of the same event would show here as ``applied == 2``."""

    event_id = models.UUIDField()
    handler = models.CharField(max_length=255)
    applied = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event_id", "handler"], name="proof_effect_once")
        ]

    def __str__(self) -> str:
        return f"{self.handler} <- {self.event_id} x{self.applied}"
