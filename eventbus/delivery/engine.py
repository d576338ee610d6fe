"""The delivery engine: the one unit that delivers one event to one handler.

``deliver(job, session)`` decides what to do with an (event, handler) pair: skip it (it
succeeded, or is dead and not forced), let it wait (an earlier event of its aggregate is
unfinished, for an ordered handler), dead-letter it (its payload cannot be read, or the
handler is gone), or run it. It then records the outcome through the store: succeeded,
failed with the next attempt, waiting, or dead. Every path that runs a handler calls it:
inline dispatch, the worker, ``eventbus retry``, replay, dead-letter retry, the admin and the
broker consumer. They differ only in their session: how the handler's transaction is run
and when a success is written.

Guarantees: a handler's effects and its success record commit together, so a redelivered
event is skipped by a handler that applied it; a failure is recorded with its error (one
DeliveryAttempt row each) and retried with backoff; after the last attempt, or at once for
bad data, the delivery is a dead letter. One handler's failure never reaches the others.

Every session calls the handler through eventbus.delivery.redelivery, which calls it once,
or under the test suite's redelivery drill crashes it once and runs it twice.
"""

import logging
import time
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.utils import timezone
from pydantic import ValidationError

from eventbus import tracing
from eventbus.conf import bus_settings
from eventbus.context import handling
from eventbus.delivery import redelivery
from eventbus.delivery.backoff import next_attempt_at
from eventbus.delivery.ordering import WAIT_RECHECK, blocking_event, waiting_note
from eventbus.envelope import Envelope
from eventbus.events import Event
from eventbus.exceptions import DoNotRetry, UnknownEventError
from eventbus.logcontext import log_extra
from eventbus.models import DUE, Delivery
from eventbus.process import connection_lost
from eventbus.signals import (
    announce,
    delivery_dead_lettered,
    delivery_failed,
    delivery_succeeded,
)
from eventbus.storage import DeliveryKey, DeliveryRow, Failure, Store
from eventbus.subscriptions import Subscription, subscription

logger = logging.getLogger("eventbus.delivery")


def _log_handled(job: "Job", duration: float) -> None:
    """A debug line per success, built only when debug lines are wanted (the hot path)."""
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "%s handled %s %s in %.3f s",
            job.handler_id,
            job.envelope.name,
            job.key[0],
            duration,
            extra=log_extra(job.envelope, handler=job.handler_id, duration=duration),
        )


#: Outcome status of a pair with nothing to do.
SKIPPED = "skipped"
SUCCEEDED = Delivery.Status.SUCCEEDED.value
#: The statuses that are retried when due.
DUE_STATUSES = frozenset(DUE)
#: What a forced retry (dead-letter retry, the admin) runs besides: never a success again.
FORCED_STATUSES = DUE_STATUSES | {Delivery.Status.DEAD, Delivery.Status.DISCARDED}
#: What replay with ``again`` runs: everything, successes included.
EVERY_STATUS = frozenset(Delivery.Status)


class Action(StrEnum):
    SKIP = "skip"
    WAIT = "wait"
    RUN = "run"
    DEAD_LETTER = "dead-letter"


class Outcome(NamedTuple):
    """What became of one (event, handler) pair: a Delivery.Status value, or "skipped"."""

    handler_id: str
    status: str
    error: str = ""


class Job(NamedTuple):
    """One (event, handler) pair to deliver.

    ``event`` is the envelope read as an event, or the exception reading it raised.
    ``row`` is the delivery row when there is one (locked by the caller's transaction);
    it is run only if its status is in ``runs``: due ones by default, dead and discarded
    ones too for a forced retry (FORCED_STATUSES), succeeded ones too for a replay "again"
    (EVERY_STATUS).
    """

    envelope: Envelope
    handler_id: str
    event: Event | Exception
    row: DeliveryRow | None = None
    runs: frozenset[str] = DUE_STATUSES

    @property
    def key(self) -> DeliveryKey:
        return (self.envelope.event_id, self.handler_id)


def read(envelope: Envelope) -> Event | Exception:
    """The envelope's event, or the exception that says why it cannot be read."""
    try:
        return envelope.event()
    except Exception as exc:
        return exc


class Decision(NamedTuple):
    action: Action
    subscription: Subscription | None = None
    reason: Exception | None = None  # why it is dead-lettered
    blocker: uuid.UUID | None = None  # what it waits for


def decide(job: Job, session: "Session") -> Decision:
    """Skip, wait, run or dead-letter: what to do with ``job`` now."""
    row = job.row
    if row is not None and row.status not in job.runs:
        return Decision(Action.SKIP)
    sub = subscription(job.handler_id)
    if sub is None:
        gone = UnknownEventError(f"{job.handler_id} is no longer subscribed in this process")
        return Decision(Action.DEAD_LETTER, reason=gone)
    if isinstance(job.event, Exception):
        return Decision(Action.DEAD_LETTER, sub, reason=job.event)
    blocker = session.blocker(sub, job.envelope)
    if blocker is not None:
        return Decision(Action.WAIT, sub, blocker=blocker)
    return Decision(Action.RUN, sub)


def deliver(job: Job, session: "Session") -> Outcome:
    """Decide what to do with ``job``, do it, and record the outcome through ``session``.

    Never raises for a handler's failure (it is recorded), except in an optimistic session,
    which raises HandlerFailed so that its caller can roll the batch back. A lost database
    connection is no handler's failure: in a session inside the caller's transaction it is
    raised as it came (eventbus.process.connection_lost), and the caller tries again."""
    decision = decide(job, session)
    if decision.action is Action.SKIP:
        return Outcome(job.handler_id, SKIPPED)
    sub = decision.subscription
    if decision.action is Action.WAIT:
        assert sub is not None and decision.blocker is not None
        return session.wait(job, sub, decision.blocker)
    if decision.action is Action.DEAD_LETTER:
        assert decision.reason is not None
        return session.fail(job, sub, decision.reason, duration=0.0, dead=True)
    assert sub is not None and isinstance(job.event, Event)
    tracer = tracing.tracer()
    if tracer is None:
        return session.run(job, sub, job.event)
    with tracing.processing(tracer, job.envelope, job.handler_id) as span:
        outcome = session.run(job, sub, job.event)
        if outcome.status not in (SUCCEEDED, SKIPPED):
            tracing.failed(span, outcome.error or outcome.status)
        return outcome


# --- recording --------------------------------------------------------------------------


def max_attempts(sub: Subscription | None) -> int:
    if sub is not None and sub.max_attempts is not None:
        return sub.max_attempts
    return bus_settings.MAX_ATTEMPTS


def describe(exc: BaseException) -> tuple[str, str]:
    """The error line (at most 2,000 characters) and the traceback of ``exc``."""
    error = f"{type(exc).__name__}: {exc}"
    return error[:2000], "".join(traceback.format_exception(exc))


def is_permanent(exc: BaseException) -> bool:
    """Bad data is not retried: DoNotRetry, an unknown event, a payload that fails validation."""
    return isinstance(exc, DoNotRetry | UnknownEventError | ValidationError)


def failure_of(
    job: Job, sub: Subscription | None, exc: BaseException, *, now: datetime, dead: bool = False
) -> Failure:
    """The failure to record for ``job``: dead after its last attempt or for bad data,
    otherwise due again after the backoff delay."""
    error, trace = describe(exc)
    attempts = (job.row.attempts if job.row is not None else 0) + 1
    if dead or is_permanent(exc) or attempts >= max_attempts(sub):
        return Failure(error, trace, now, None)
    return Failure(error, trace, now, next_attempt_at(now, attempts))


class HandlerFailed(Exception):
    """Leaves an optimistic batch: a handler failed, so deliver the batch carefully."""

    def __init__(self, key: DeliveryKey, error: Exception) -> None:
        super().__init__(key, error)
        self.key = key  # not run again in the careful pass: its failure is recorded
        self.error = error


@dataclass
class Session:
    """How the engine runs handlers and writes outcomes for one caller.

    The base session runs inside the caller's open transaction: each handler in a savepoint
    with its success written at once (``careful``), or with none and its success buffered
    (optimistic: a failure raises HandlerFailed and the caller rolls everything back);
    ``flush()`` writes what is buffered in one statement, with the outbox rows the caller
    marks dispatched. Failures and waits are written at once. ``settled`` holds the events
    delivered earlier in the transaction, so ordered handlers need not wait for them;
    ``held`` the aggregates whose later events must wait (an earlier one failed or waits).
    """

    store: Store
    careful: bool = True
    known_failure: HandlerFailed | None = None
    new_successes: list[DeliveryKey] = field(default_factory=list)
    retried_successes: list[int] = field(default_factory=list)
    settled: set[uuid.UUID] = field(default_factory=set)
    held: dict[tuple[str, str], uuid.UUID] = field(default_factory=dict)

    @property
    def using(self) -> str:
        return self.store.using

    # --- what the engine calls --------------------------------------------------------

    def blocker(self, sub: Subscription, envelope: Envelope) -> uuid.UUID | None:
        if not sub.ordered or not envelope.aggregate_id:
            return None
        held = self.held.get((sub.module, envelope.aggregate_id))
        if held is not None:
            return held
        return blocking_event(sub, envelope, store=self.store, settled=self.settled)

    def run(self, job: Job, sub: Subscription, event: Event) -> Outcome:
        known = self.known_failure
        if known is not None and known.key == job.key:
            # It failed a moment ago in the optimistic pass: record that, do not run it twice.
            return self.fail(job, sub, known.error, duration=0.0)
        started = time.perf_counter()
        recording = False
        try:
            if self.careful:
                # The success is written at once, in the handler's savepoint (a later event
                # of the aggregate in this pass sees it done; a record that meets another
                # process's takes the handler's effects back with it).
                with transaction.atomic(using=self.using):
                    with handling(job.envelope):
                        redelivery.handle(sub, event, using=self.using)
                    duration = time.perf_counter() - started
                    recording = True
                    self._buffer_success(job)
                    self.flush()
            else:
                with handling(job.envelope):
                    redelivery.handle(sub, event, using=self.using)
                duration = time.perf_counter() - started
                self._buffer_success(job)
        except Exception as exc:
            if recording and isinstance(exc, IntegrityError):
                # Another process (an inline dispatch, another deliverer) recorded this
                # delivery first: its effect stands, this one rolled back with the savepoint.
                logger.info(
                    "%s already delivered %s by another process",
                    job.handler_id,
                    job.key[0],
                    extra=log_extra(job.envelope, handler=job.handler_id),
                )
                self.new_successes, self.retried_successes = [], []
                return Outcome(job.handler_id, SKIPPED)
            if connection_lost(exc, self.using):
                # Not the handler's failure: the caller's transaction is gone with the
                # connection, nothing of the batch is recorded, and it is tried again whole.
                raise
            if not self.careful:
                raise HandlerFailed(job.key, exc) from exc
            return self.fail(job, sub, exc, duration=time.perf_counter() - started)
        self._announce_success(job, duration)
        return Outcome(job.handler_id, SUCCEEDED)

    def _buffer_success(self, job: Job) -> None:
        if job.row is None:
            self.new_successes.append(job.key)
        else:
            self.retried_successes.append(job.row.id)

    def _announce_success(self, job: Job, duration: float) -> None:
        """Log a success and send ``delivery_succeeded`` once it commits (if anyone listens)."""
        _log_handled(job, duration)
        if delivery_succeeded.receivers:
            announce(
                delivery_succeeded,
                job.envelope,
                using=self.using,
                handler_id=job.handler_id,
                duration=duration,
            )

    def fail(
        self,
        job: Job,
        sub: Subscription | None,
        exc: Exception,
        *,
        duration: float,
        dead: bool = False,
    ) -> Outcome:
        failure = failure_of(job, sub, exc, now=timezone.now(), dead=dead)
        row = self.store.record_failed(job.row, job.key, failure)
        self._hold(sub, job.envelope)
        logger.warning(
            "%s failed on %s %s: %s",
            job.handler_id,
            job.envelope.name,
            job.key[0],
            failure.error,
            extra=log_extra(job.envelope, handler=job.handler_id, duration=duration),
        )
        signal = delivery_failed if failure.next_attempt_at else delivery_dead_lettered
        announce(
            signal,
            job.envelope,
            using=self.using,
            handler_id=job.handler_id,
            duration=duration,
            error=failure.error,
        )
        return Outcome(job.handler_id, row.status, failure.error)

    def wait(self, job: Job, sub: Subscription, blocker: uuid.UUID) -> Outcome:
        now = timezone.now()
        note = waiting_note(blocker, job.envelope)
        self.store.record_waiting(job.row, job.key, note=note, at=now, until=now + WAIT_RECHECK)
        self._hold(sub, job.envelope)
        logger.info(
            "%s on %s %s",
            job.handler_id,
            job.key[0],
            note,
            extra=log_extra(job.envelope, handler=job.handler_id),
        )
        return Outcome(job.handler_id, Delivery.Status.WAITING, note)

    # --- what the caller calls --------------------------------------------------------

    def flush(self, *, dispatched: list[uuid.UUID] | None = None) -> int:
        """Write the buffered successes and mark ``dispatched`` outbox rows; returns how
        many successes were written. In the caller's transaction."""
        written = len(self.new_successes) + len(self.retried_successes)
        if written or dispatched:
            self.store.record_succeeded(
                new=self.new_successes,
                existing=self.retried_successes,
                dispatched=dispatched or [],
                at=timezone.now(),
            )
        self.new_successes, self.retried_successes = [], []
        return written

    def _hold(self, sub: Subscription | None, envelope: Envelope) -> None:
        """Later events of this aggregate wait for this one, for this module's ordered handlers."""
        if sub is not None and sub.ordered and envelope.aggregate_id:
            self.held.setdefault((sub.module, envelope.aggregate_id), envelope.event_id)


@dataclass
class OwnTransactionSession(Session):
    """Each handler in a transaction of its own, opened here; every outcome committed as it
    happens. The record of ``dispatched_by`` (the event's last handler) also marks the
    outbox row dispatched, so a crash before it leaves the row for the worker.

    Outside any transaction (inline dispatch after commit); a handler that touched no row
    has its success written alone, in one autocommit statement, where the store can tell.
    """

    dispatched_by: str | None = None

    def run(self, job: Job, sub: Subscription, event: Event) -> Outcome:
        recorded = False
        outermost = not transaction.get_connection(self.using).in_atomic_block
        started = time.perf_counter()
        try:
            with transaction.atomic(using=self.using), handling(job.envelope):
                redelivery.handle(sub, event, using=self.using)
                duration = time.perf_counter() - started
                untouched = outermost and self.store.transaction_untouched()
                if not untouched:
                    recorded = True
                    # The block's last write: where the store can, its COMMIT goes with it.
                    self._record_success(job, duration, commit=outermost)
            if untouched:  # nothing to commit with: the record alone, one statement
                recorded = True
                self._record_success(job, duration)
        except IntegrityError as exc:
            if recorded:  # another process recorded this delivery first: its effect stands
                logger.info(
                    "%s already delivered %s",
                    job.handler_id,
                    job.key[0],
                    extra=log_extra(job.envelope, handler=job.handler_id),
                )
                self._dispatch_if_last(job)
                return Outcome(job.handler_id, SKIPPED)
            return self.fail(job, sub, exc, duration=time.perf_counter() - started)
        except Exception as exc:
            return self.fail(job, sub, exc, duration=time.perf_counter() - started)
        return Outcome(job.handler_id, SUCCEEDED)

    def _record_success(self, job: Job, duration: float, *, commit: bool = False) -> None:
        dispatched = [job.key[0]] if job.handler_id == self.dispatched_by else []
        self.store.record_succeeded(
            new=[job.key] if job.row is None else [],
            existing=[job.row.id] if job.row is not None else [],
            dispatched=dispatched,
            at=timezone.now(),
            commit=commit,
        )
        self._announce_success(job, duration)

    def fail(
        self,
        job: Job,
        sub: Subscription | None,
        exc: Exception,
        *,
        duration: float,
        dead: bool = False,
    ) -> Outcome:
        try:
            with transaction.atomic(using=self.using):
                outcome = super().fail(job, sub, exc, duration=duration, dead=dead)
                self._dispatch_if_last(job)
        except Exception:
            # The database itself is failing; the undispatched outbox row is the record.
            logger.exception("could not record the failure of %s", job.handler_id)
            return Outcome(job.handler_id, Delivery.Status.FAILED, describe(exc)[0])
        return outcome

    def wait(self, job: Job, sub: Subscription, blocker: uuid.UUID) -> Outcome:
        with transaction.atomic(using=self.using):
            outcome = super().wait(job, sub, blocker)
            self._dispatch_if_last(job)
        return outcome

    def _dispatch_if_last(self, job: Job) -> None:
        if job.handler_id == self.dispatched_by:
            self.store.mark_dispatched([job.key[0]], at=timezone.now())
