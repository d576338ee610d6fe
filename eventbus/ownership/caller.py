"""Which module's code is running: the innermost frame of a module's code on the stack, else
the module of the view serving the request.

A frame is module code when its Python module is inside the package of one of a module's apps
(the app whose name is the longest prefix of it, eventbus.boundaries.modules), except its tests (a ``tests`` package, ``test_*`` files, ``conftest``), its
migrations and its models. So a test body, a fixture or a migration is nobody, and a test that
calls ``orders.services.order_place()`` runs orders' code while that call lasts. A model's
methods and managers act for whoever calls them: ``User.save()`` called by orders' code is
orders querying accounts' table.

The stack finds services, selectors, handlers and commands. A view that declares its query
(``queryset = ...`` on a DRF generic view) has no frame of its own when DRF runs that query,
so ViewModuleMiddleware records the view being served for the length of the request.
"""

import os
import sys
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from types import CodeType, FrameType
from typing import Any

from eventbus.boundaries.modules import of_path, top
from eventbus.operations.extraction.modules import is_test

#: Besides its tests (is_test), the parts of a module whose code acts for no module.
_NOT_MODULE_CODE = frozenset({"migrations", "models"})


@dataclass(frozen=True)
class Caller:
    """The module running, and where: "orders/services.py:42"."""

    module: str
    location: str


#: The module of the view serving the current request, and the view (for its location).
_view: ContextVar[tuple[str, object] | None] = ContextVar("eventbus_ownership_view", default=None)
#: a code object's file -> its module, or "" when it is not module code; reset with the owners
#: (by file: code objects compare equal across files when their code is the same). Code with
#: no file of its own ("<string>": a dataclass's __init__) is classified every time.
_file_module: dict[str, str] = {}


def module_of(dotted: str, prefixes: tuple[tuple[str, str], ...]) -> str:
    """The module ``dotted`` (a Python module's name) is code of, or "" if none;
    ``prefixes`` are Owners.prefixes."""
    module = of_path(dotted, prefixes)
    if not module or _NOT_MODULE_CODE.intersection(dotted.split(".")) or is_test(dotted):
        return ""
    return module


def location(filename: str, line: int, dotted: str) -> str:
    """``filename:line`` relative to the directory that holds the top-level package of
    ``dotted`` (the code's Python module)."""
    package = sys.modules.get(top(dotted))
    package_file = getattr(package, "__file__", None)
    if package_file and os.path.isabs(filename):
        root = os.path.dirname(os.path.dirname(package_file))
        filename = os.path.relpath(filename, root)
    return f"{filename}:{line}"


def current_caller(prefixes: tuple[tuple[str, str], ...]) -> Caller | None:
    """The module whose code issued the statement being run, or None outside module code;
    ``prefixes`` are Owners.prefixes."""
    frame: FrameType | None = sys._getframe(1)
    cached = _file_module
    while frame is not None:
        code = frame.f_code
        filename = code.co_filename
        module = cached.get(filename)
        if module is None:
            module = module_of(str(frame.f_globals.get("__name__", "")), prefixes)
            if not filename.startswith("<"):
                cached[filename] = module
        if module:
            dotted = str(frame.f_globals.get("__name__", ""))
            return Caller(module, location(code.co_filename, frame.f_lineno, dotted))
        frame = frame.f_back
    view = _view.get()
    if view is None:
        return None
    return Caller(view[0], _view_location(view[1]))


def _view_location(view: object) -> str:
    """Where the view is defined: its function's first line, or its class's (no file read)."""
    dotted = str(getattr(view, "__module__", ""))
    code = getattr(view, "__code__", None)
    if isinstance(code, CodeType):
        return location(code.co_filename, code.co_firstlineno, dotted)
    view_module = sys.modules.get(dotted)
    filename = getattr(view_module, "__file__", None)
    line = getattr(view, "__firstlineno__", None)
    if filename and isinstance(line, int):
        return location(filename, line, dotted)
    return f"{dotted}.{getattr(view, '__qualname__', view)}"


def forget_code() -> None:
    """Classify every frame again (the set of modules changed)."""
    _file_module.clear()


def enter_view(view_func: Callable[..., Any], prefixes: tuple[tuple[str, str], ...]) -> None:
    """Record the view now serving the request (ViewModuleMiddleware, in process_view)."""
    view: object = getattr(view_func, "view_class", None) or view_func
    module = module_of(str(getattr(view, "__module__", "") or ""), prefixes)
    _view.set((module, view) if module else None)


class request_scope:
    """The view recorded inside the block is forgotten when it ends."""

    __slots__ = ("_token",)

    def __enter__(self) -> None:
        self._token = _view.set(None)

    def __exit__(self, *exc_info: object) -> None:
        _view.reset(self._token)
