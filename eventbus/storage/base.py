"""The storage interface: every statement the bus writes by hand, behind one set of methods.

The delivery engine, the worker, the relay and the inbox call these methods and never write
SQL of their own. Three implementations: ``PortableStore`` (any database Django supports,
SQLite in development and tests), ``PostgresStore`` (single round trips, ``SKIP LOCKED``,
relaxed commits, LISTEN/NOTIFY) and ``MariaDBStore`` (``SKIP LOCKED`` claims that lock one
table, no notifications: its workers poll). Status values, defaults and column names come from the
models (``eventbus.models``); they are never typed out again in a statement.
"""

import uuid
from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from eventbus.envelope import Envelope
from eventbus.together import NewMessage, NewTask

#: (event id, handler id): one delivery of one event to one handler.
DeliveryKey = tuple[uuid.UUID, str]


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    """What the engine needs of an existing delivery row to decide and record."""

    id: int
    handler: str
    status: str
    attempts: int


@dataclass(frozen=True, slots=True)
class Claimed:
    """Outbox rows locked for the caller's transaction, and the (event id, handler id)
    pairs among them that have a delivery row already (a dead process recorded them
    before it could mark its row dispatched)."""

    envelopes: list[Envelope]
    delivered: set[DeliveryKey]


@dataclass(frozen=True, slots=True)
class Failure:
    """A failed attempt to record: the error, its traceback, and what comes next.

    ``next_attempt_at`` is None for a dead letter."""

    error: str
    traceback: str
    at: datetime
    next_attempt_at: datetime | None


class Store(ABC):
    """The bus's tables on one database connection (``using``).

    Methods that lock rows (``claim_*``, ``lock_*``) or record outcomes must run inside the
    caller's transaction; they commit with it.
    """

    def __init__(self, using: str) -> None:
        self.using = using

    # --- the outbox ---------------------------------------------------------------------

    @abstractmethod
    def insert_message(
        self, envelope: Envelope, *, dispatched: bool, notify: bool, broker: str
    ) -> None:
        """Insert the envelope's outbox row in the caller's transaction.

        ``dispatched`` marks it done at once (nobody subscribes in this process); ``notify``
        wakes listening workers when the transaction commits (PostgreSQL); ``broker`` is an
        ``OutboxMessage.Broker`` value."""

    @abstractmethod
    def insert_task(
        self, envelope: Envelope, *, handler: str, priority: int, queue: str, due_at: datetime
    ) -> None:
        """Insert a task's outbox row, dispatched at once and never relayed, and its one
        delivery (to ``handler``) in status waiting, due at ``due_at``: only the worker's
        claim of due deliveries runs it, never inline dispatch. In the caller's transaction;
        wakes listening workers when it commits (PostgreSQL)."""

    def insert_many(self, messages: Sequence[NewMessage], tasks: Sequence[NewTask]) -> None:
        """Insert outbox rows and tasks together (eventbus.write_together), in the caller's
        transaction: here one after another; PostgreSQL's store sends one statement."""
        for message in messages:
            self.insert_message(
                message.envelope,
                dispatched=message.dispatched,
                notify=message.notify,
                broker=message.broker,
            )
        for task in tasks:
            self.insert_task(
                task.envelope,
                handler=task.handler,
                priority=task.priority,
                queue=task.queue,
                due_at=task.due_at,
            )

    @abstractmethod
    def insert_received(self, envelopes: Sequence[Envelope]) -> set[uuid.UUID]:
        """Store envelopes that arrived from the broker, skipping event ids stored already
        (by an earlier delivery or by another consumer right now); returns the ids this
        transaction inserted."""

    @abstractmethod
    def stored_envelopes(self, event_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Envelope]:
        """The stored envelopes among ``event_ids``, by id (to tell a redelivery from a
        different message reusing an id)."""

    @abstractmethod
    def claim_outbox(
        self,
        *,
        limit: int | None = None,
        occurred_before: datetime | None = None,
        ids: Collection[uuid.UUID] | None = None,
    ) -> Claimed:
        """Lock undispatched rows, oldest first, skipping rows another worker holds: the
        first ``limit`` (older than ``occurred_before`` if given), or those among ``ids``."""

    @abstractmethod
    def mark_dispatched(self, event_ids: Collection[uuid.UUID], *, at: datetime) -> None:
        """Mark rows as having a delivery record for every subscriber."""

    @abstractmethod
    def claim_relay(self, *, limit: int) -> list[Envelope]:
        """Lock up to ``limit`` rows waiting for the relay, oldest first."""

    @abstractmethod
    def mark_relayed(self, event_ids: Collection[uuid.UUID], *, at: datetime) -> None:
        """Mark rows sent: the broker confirmed them."""

    # --- deliveries ---------------------------------------------------------------------

    @abstractmethod
    def deliveries_of(self, event_ids: Collection[uuid.UUID]) -> set[DeliveryKey]:
        """The (event id, handler id) pairs that have a delivery row, among these events."""

    @abstractmethod
    def claim_due(
        self, *, limit: int, now: datetime, queues: Collection[str] | None = None
    ) -> list[tuple[DeliveryRow, Envelope]]:
        """Lock up to ``limit`` failed or waiting deliveries whose next attempt time has come,
        highest priority first, then soonest, skipping rows another worker holds, each with
        its event's envelope. With ``queues``, tasks of other queues are left (an event's
        deliveries, which have no queue, are always taken)."""

    @abstractmethod
    def lock_delivery(self, delivery_id: int) -> tuple[DeliveryRow, Envelope] | None:
        """Lock one delivery row (waiting for another holder) with its event's envelope."""

    @abstractmethod
    def lock_delivery_of(self, event_id: uuid.UUID, handler: str) -> DeliveryRow | None:
        """Lock the delivery row of one (event, handler) pair, if there is one."""

    @abstractmethod
    def record_succeeded(
        self,
        *,
        new: Sequence[DeliveryKey] = (),
        existing: Sequence[int] = (),
        dispatched: Collection[uuid.UUID] = (),
        at: datetime,
        commit: bool = False,
    ) -> None:
        """Record successes: ``new`` pairs get a delivery row (first attempt), ``existing``
        rows (by id) count one more attempt; ``dispatched`` outbox rows are marked.

        In the handler's transaction, so the record commits with its effects. Raises
        IntegrityError when one of ``new`` has a row already: another process delivered it,
        and the caller's transaction must roll back so its effect is not applied twice.

        ``commit=True`` says the record is the last write of an outermost ``atomic()``
        block: a store may then send the transaction's COMMIT with it, in one round trip,
        and the block's exit finds nothing left to commit (its on-commit callbacks still run
        then). A store that cannot leaves the commit to the block. Nothing may be written in
        the block after it."""

    @abstractmethod
    def record_failed(
        self, row: DeliveryRow | None, key: DeliveryKey, failure: Failure
    ) -> DeliveryRow:
        """Record a failed attempt: the delivery row (inserted when ``row`` is None) becomes
        failed, due at ``failure.next_attempt_at``, or dead when that is None; and one
        DeliveryAttempt row keeps the error and traceback."""

    @abstractmethod
    def record_waiting(
        self, row: DeliveryRow | None, key: DeliveryKey, *, note: str, at: datetime, until: datetime
    ) -> DeliveryRow:
        """Record that a delivery waits for an earlier event of its aggregate (no attempt
        used); it is due again at ``until``."""

    @abstractmethod
    def blocking_event(
        self,
        *,
        aggregate_id: str,
        before: uuid.UUID,
        handlers: Collection[str],
        unsettled: Collection[str],
        settled: Collection[uuid.UUID] = (),
    ) -> uuid.UUID | None:
        """The first earlier event of the aggregate that is undispatched (and not in
        ``settled``), or whose delivery to one of ``handlers`` has an ``unsettled`` status."""

    # --- transactions and waiting -------------------------------------------------------

    def relax_commit(self) -> None:
        """Let this transaction's commit skip waiting for its fsync, where the database can.

        Only for transactions whose every input is durable already (the outbox), so a commit
        lost in a crash is simply delivered again. Nothing to do by default."""
        return None

    def flush_commits(self) -> None:
        """Return once every transaction this connection has committed is on disk, however
        relaxed its commit was. For work whose input is durable nowhere else afterwards:
        the consumer calls it before acknowledging the broker's messages. Call it outside
        a transaction. Nothing to do by default (a returned commit is as durable as the
        database makes it)."""
        return None

    def transaction_untouched(self) -> bool:
        """True when the open outermost transaction has sent no statement yet, so a success
        record may be written alone in autocommit mode. False where it cannot be known."""
        return False

    def listener(self) -> "Listener | None":
        """A connection of its own that hears publishing commits, or None where the database
        cannot notify (then poll)."""
        return None


class Listener(Protocol):
    """Hears the commits that publish: ``wait(seconds)`` returns True as soon as one notifies,
    False when the time is up; ``close()`` closes its connection."""

    def wait(self, seconds: float) -> bool: ...

    def close(self) -> None: ...
