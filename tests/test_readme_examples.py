"""The examples of README.md and docs/*.md: the Python ones run as written, the shell ones
name make targets, manage.py commands and options that exist.

Each fenced ```python block is one test: it runs in a module of its own against the test
database (transactional, so handlers run after each commit as in production), and every
``test_*`` function it defines is then called with the fixtures it names. Event classes,
upcasters, subscribers and models an example defines are removed afterwards, so nothing leaks into
other tests. A block that cannot run is marked, with its reason, by an HTML comment on the
line before its fence, ``<!-- not run: the reason -->`` (or by the info string
```python notest); keep those few.
"""

import argparse
import inspect
import re
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.management import get_commands, load_command_class

from eventbus.events import registered_events
from eventbus.subscriptions import all_subscriptions, unsubscribe
from eventbus.testing import isolated_event_registry
from orders.exceptions import CustomerNotReplicated

ROOT = Path(__file__).resolve().parent.parent
PAGES = [
    ROOT / "README.md",
    ROOT / "packages" / "eventbus" / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
]

FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<code>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
NOT_RUN = re.compile(r"<!--[ \t]*not run:[ \t]*(?P<reason>[^\n]*?)[ \t]*-->\s*\Z")


@dataclass(frozen=True)
class Example:
    page: Path
    line: int  # of the fence
    code: str
    skip_reason: str | None

    @property
    def where(self) -> str:
        page = self.page.relative_to(ROOT) if self.page.is_relative_to(ROOT) else self.page
        return f"{page}:{self.line}"


def examples(page: Path) -> list[Example]:
    """The page's ```python blocks, in order, with the reason a block is not run, if any."""
    text = page.read_text()
    found = []
    for fence in FENCE.finditer(text):
        language, *flags = fence["info"].split() or [""]
        if language != "python":
            continue
        not_run = NOT_RUN.search(text[: fence.start()].rstrip() + "\n")
        reason = not_run["reason"] if not_run else ("marked notest" if "notest" in flags else None)
        line = text.count("\n", 0, fence.start()) + 1
        found.append(Example(page, line, fence["code"], reason))
    return found


EXAMPLES = [example for page in PAGES for example in examples(page)]


@contextmanager
def example_module(example: Example) -> Iterator[types.ModuleType]:
    """A throwaway module to run one example in; what it registers is undone afterwards."""
    name = "docs_example_" + re.sub(r"\W", "_", example.where)
    module = types.ModuleType(name)
    module.__file__ = str(example.page)
    subscribed = {s.handler_id for s in all_subscriptions()}
    models = {(label, model) for label, found in apps.all_models.items() for model in found}
    sys.modules[name] = module
    try:
        with isolated_event_registry():
            yield module
    finally:
        del sys.modules[name]
        for subscription in all_subscriptions():
            if subscription.handler_id not in subscribed:
                unsubscribe(subscription.handler_id)
        # A model the example defines is forgotten too (as Django's own tests do), so the
        # example can run again, under the drill.
        for label, found in apps.all_models.items():
            for model in set(found) - {m for lbl, m in models if lbl == label}:
                del found[model]
        apps.clear_cache()


def run(example: Example, module: types.ModuleType, fixture: Callable[[str], Any]) -> None:
    """Execute the example in ``module``, then call each test_* function it defines with the
    fixtures it names; an exception gets a note naming the example's page and line."""
    # Blank lines before the code keep its line numbers: a traceback points into the page.
    code = compile("\n" * example.line + example.code, str(example.page), "exec")
    try:
        exec(code, vars(module))
        tests = [
            func
            for name, func in vars(module).items()
            if name.startswith("test_")
            and inspect.isfunction(func)
            and func.__module__ == module.__name__  # defined here, not imported
        ]
        for test in tests:
            test(**{arg: fixture(arg) for arg in inspect.signature(test).parameters})
    except Exception as error:
        error.add_note(f"in the example at {example.where}")
        raise


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("example", EXAMPLES, ids=[e.where for e in EXAMPLES])
def test_the_example_runs_as_written(example: Example, request: pytest.FixtureRequest) -> None:
    if example.skip_reason:
        pytest.skip(example.skip_reason)
    with example_module(example) as module:
        run(example, module, request.getfixturevalue)


#: The examples that subscribe a handler: each must survive the redelivery drill.
HANDLER_EXAMPLES = [e for e in EXAMPLES if "@subscriber(" in e.code and not e.skip_reason]


@pytest.mark.eventbus_redeliver
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("example", HANDLER_EXAMPLES, ids=[e.where for e in HANDLER_EXAMPLES])
def test_the_handler_example_survives_the_redelivery_drill(
    example: Example, request: pytest.FixtureRequest
) -> None:
    # Under the drill every event is crashed once after the handler's effects, then
    # delivered twice: the example's own assertions must still hold.
    with example_module(example) as module:
        run(example, module, request.getfixturevalue)


def test_the_docs_have_handler_examples_for_the_drill() -> None:
    pages = {example.page.name for example in HANDLER_EXAMPLES}

    assert {"README.md", "eventbus.md"} <= pages


def test_every_page_with_code_has_its_examples_found() -> None:
    pages = {example.page.name for example in EXAMPLES}

    assert {"README.md", "eventbus.md", "operating.md", "contracts.md"} <= pages


def test_a_block_marked_not_run_is_skipped_with_its_reason(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "Intro.\n\n```python\nx = 1\n```\n\n"
        "<!-- not run: needs a printer -->\n```python\nprint_it()\n```\n\n"
        "```python notest\nraise SystemExit\n```\n\n```sh\nmake run\n```\n"
    )

    assert [(e.line, e.code, e.skip_reason) for e in examples(page)] == [
        (3, "x = 1\n", None),
        (8, "print_it()\n", "needs a printer"),
        (12, "raise SystemExit\n", "marked notest"),
    ]


PLANTED = """
```python
from eventbus import Event, subscriber
from orders.services import OrderLineIn, order_place


class ThingPlanted(Event):
    event_name = "planted.thing_planted"
    event_version = 1

    thing_id: int


@subscriber(ThingPlanted)
def on_thing_planted(event: ThingPlanted) -> None:
    pass


def test_placing_an_order_publishes_it(published_events):
    order_place(customer_id=7, lines=[OrderLineIn(sku="MUG-001", quantity=1)])
```
"""


@pytest.mark.django_db
def test_a_failing_example_fails_naming_its_line_and_leaves_nothing_behind(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # Given the README's old testing example: orders has no replica of customer 7.
    page = tmp_path / "planted.md"
    page.write_text(PLANTED)
    (example,) = examples(page)

    with pytest.raises(CustomerNotReplicated) as raised, example_module(example) as module:
        run(example, module, request.getfixturevalue)

    assert raised.value.__notes__ == [f"in the example at {page}:2"]
    assert any(entry.path == page for entry in raised.traceback)  # the example's own lines
    assert "planted.thing_planted" not in {e.event_name for e in registered_events()}
    assert not [s for s in all_subscriptions() if s.handler_id.endswith(".on_thing_planted")]


# --- shell examples: not run, but every command they name exists --------------------------

MAKE = re.compile(r"\bmake ([a-z][\w-]*)")
MANAGE = re.compile(r"manage\.py ([^`#\n]*)")
INLINE_CODE = re.compile(r"`([^`\n]+)`")


def shell_lines(page: Path) -> list[str]:
    """Each command line of the page's ```sh blocks, $EB spelt out, comments dropped."""
    lines = []
    for fence in FENCE.finditer(page.read_text()):
        if fence["info"].strip() != "sh":
            continue
        alias = re.search(r'^EB="([^"]+)"$', fence["code"], flags=re.MULTILINE)
        for line in fence["code"].splitlines():
            if alias and line == alias[0]:
                continue
            if alias:
                line = line.replace("$EB", alias[1])
            lines.append(line.split("  #")[0].strip())
    return lines


def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), re.MULTILINE))


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def unknown_in_manage_command(words: list[str]) -> list[str]:
    """The words of `manage.py WORDS` that name no command, action or option (a word in
    capitals, such as ACTION, is a placeholder)."""
    command, *rest = words
    if command not in get_commands():
        return [command]
    parser: argparse.ArgumentParser = load_command_class(
        get_commands()[command], command
    ).create_parser("manage.py", command)
    unknown = []
    for word in rest:
        if word.startswith("-"):
            options = {o for action in parser._actions for o in action.option_strings}
            if word.split("=")[0] not in options:
                unknown.append(word)
        elif choices := subcommands(parser):
            if word in choices:
                parser = choices[word]
            elif not word.isupper():
                return [*unknown, word]  # what follows belongs to an action that is not there
    return unknown


def commands_named(page: Path) -> list[str]:
    """The page's shell lines, and its inline code spans that name a make target or a
    manage.py command (`make split`, `eventbus retry`, `manage.py check --deploy`)."""
    spans = INLINE_CODE.findall(FENCE.sub("", page.read_text()))
    inline = [re.sub(r"^eventbus ", "manage.py eventbus ", span) for span in spans]
    return [
        *shell_lines(page),
        *[span for span in inline if MAKE.search(span) or MANAGE.search(span)],
    ]


def unknown_commands(page: Path) -> list[str]:
    """Make targets, manage.py commands, actions and options the page names that do not exist."""
    targets, unknown = make_targets(), []
    for line in commands_named(page):
        unknown += [f"make {target}" for target in MAKE.findall(line) if target not in targets]
        for command in MANAGE.findall(line):
            words = [w for w in re.split(r"[\s\[\]|&]+", command) if w]
            unknown += [
                f"manage.py {' '.join(words)}: {w}" for w in unknown_in_manage_command(words)
            ]
    return unknown


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_the_commands_a_page_names_exist(page: Path) -> None:
    assert unknown_commands(page) == []


def test_a_command_that_does_not_exist_is_found(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "Run `make nosuch` or `eventbus retyr`, and `eventbus ACTION --help`.\n\n"
        '```sh\nEB="manage.py eventbus"\n$EB purge --older 30d  # note\n'
        "manage.py eventbus dead-letters forget 12\nmanage.py migrat\n```\n"
    )

    assert unknown_commands(page) == [
        "manage.py eventbus purge --older 30d: --older",
        "manage.py eventbus dead-letters forget 12: forget",
        "manage.py migrat: migrat",
        "make nosuch",
        "manage.py eventbus retyr: retyr",
    ]
