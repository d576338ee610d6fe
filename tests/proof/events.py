"""The event the backlog proofs publish in bulk (a module of no project's)."""

from eventbus import Event


class TickHappened(Event):
    event_name = "proof.tick_happened"
    event_version = 1

    n: int
