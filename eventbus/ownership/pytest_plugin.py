"""The guard in tests: on for every test, failing the test that crossed; or recording.

Loaded by ``eventbus.testing``. Options:

- ``--eventbus-ownership-record=PATH``: record instead of raise; crossings do not fail tests,
  and PATH gets the JSON record (eventbus.ownership.record) when the session ends.
- ``--no-eventbus-ownership``: no guard.

A test fails when module code crossed during it, even if that code caught the exception (a
handler's failure is recorded by the engine, not raised): the check runs at teardown.
"""

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from eventbus.ownership import guard
from eventbus.ownership.record import write_record

_RECORD_KEY = pytest.StashKey[list[guard.Violation]]()
_FAILED_KEY = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("eventbus")
    group.addoption(
        "--eventbus-ownership-record",
        metavar="PATH",
        default=None,
        help="Record queries of one module against another module's tables to PATH (JSON) "
        "instead of failing the tests.",
    )
    group.addoption(
        "--no-eventbus-ownership",
        action="store_true",
        default=False,
        help="Do not guard data ownership (modules querying each other's tables).",
    )


def _record_path(config: pytest.Config) -> Path | None:
    value = config.getoption("--eventbus-ownership-record")
    return Path(str(value)) if value else None


@pytest.fixture(scope="session", autouse=True)
def _eventbus_ownership_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """The guard for the whole session, in the mode the options choose."""
    config = request.config
    if config.getoption("--no-eventbus-ownership"):
        yield
        return
    config.stash[_RECORD_KEY] = []
    previous = guard.mode()
    guard.install("record" if _record_path(config) else "raise")
    try:
        yield
    finally:
        if previous == "off":
            guard.uninstall()
        else:
            guard.install(previous)


@pytest.fixture(autouse=True)
def _eventbus_ownership_check(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the test in which module code crossed (raise mode); keep it (record mode)."""
    guard.clear()
    yield
    seen = guard.violations()
    guard.clear()
    if not seen or guard.mode() == "off":
        return
    if guard.mode() == "record":
        request.config.stash[_RECORD_KEY].extend(seen)
        return
    if request.node.stash.get(_FAILED_KEY, False):
        return  # the test failed already (on the raised violation, say): once is enough
    pytest.fail("\n\n".join(v.message() for v in seen), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember that the test body failed, so its teardown does not report the crossing again."""
    report = yield
    if report.when == "call" and report.failed:
        item.stash[_FAILED_KEY] = True
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = _record_path(session.config)
    if path is not None:
        seen: list[guard.Violation] = session.config.stash.get(_RECORD_KEY, [])
        write_record(path, seen)
