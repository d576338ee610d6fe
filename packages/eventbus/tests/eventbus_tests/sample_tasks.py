"""Django tasks used by the bus's own tests of eventbus.tasks (a module of no project's)."""

from typing import Any

from django.tasks import TaskContext, task

#: What the tasks did, in order; the tests clear it.
CALLS: list[Any] = []


@task
def record(label: str) -> str:
    CALLS.append(label)
    return label


@task
def add(a: int, b: int) -> int:
    CALLS.append(("add", a, b))
    return a + b


@task
def fail(message: str) -> None:
    raise ValueError(message)


@task(takes_context=True)
def attempt_number(context: TaskContext, *, succeed_at: int) -> int:
    """Fails until its ``succeed_at``-th attempt, then returns the attempt number."""
    CALLS.append(context.attempt)
    if context.attempt < succeed_at:
        raise RuntimeError(f"attempt {context.attempt} of {succeed_at}")
    return context.attempt


@task
def give_back_an_object() -> object:
    return object()
