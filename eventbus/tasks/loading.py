"""Tasks and their values as the backend stores them: a task found by its module path, and
arguments and return values held to plain JSON."""

import json
from typing import Any

from django.tasks import Task
from django.utils.json import normalize_json
from django.utils.module_loading import import_string

from eventbus.exceptions import DoNotRetry


class TaskNotFound(DoNotRetry):
    """A stored task's module path no longer names a task: running it is not retried."""


class NotJSON(TypeError):
    """A task's arguments or return value cannot be stored as JSON."""


def load_task(path: str) -> "Task[..., Any]":
    """The Task object at ``path`` (what ``@task`` left in its module); raises TaskNotFound."""
    try:
        found = import_string(path)
    except ImportError as exc:
        raise TaskNotFound(f"{path} cannot be imported: {exc}") from None
    if not isinstance(found, Task):
        raise TaskNotFound(
            f"{path} is a {type(found).__name__}, not a task: decorate it with @task."
        )
    return found


def as_json(value: Any, *, what: str) -> Any:
    """``value`` as JSON-ready plain values, as Django normalises them (tuples become lists);
    raises NotJSON, naming ``what``, for anything that would not read back the same
    (objects, dates, non-string keys, NaN)."""
    try:
        plain = normalize_json(value)
        text = json.dumps(plain, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise NotJSON(
            f"{what} must be JSON (strings, numbers, booleans, None, lists, dicts): {exc}"
        ) from None
    if json.loads(text) != plain:
        raise NotJSON(
            f"{what} must be JSON: {value!r} would not read back the same (dict keys must be strings)."
        )
    return plain
