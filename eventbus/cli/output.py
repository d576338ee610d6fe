"""Output shared by the `eventbus` actions: plain tables, human ages, progress bars."""

import sys
from argparse import ArgumentParser
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

try:
    from tqdm import tqdm
except ModuleNotFoundError:  # the `progress` extra is not installed: no bars
    tqdm = None  # type: ignore[assignment,misc]


def add_output_option(parser: ArgumentParser) -> None:
    """``--output/-o PATH``: write to that file instead of standard output (a Path, or None)."""
    parser.add_argument(
        "--output",
        "-o",
        type=Path,
        default=None,
        metavar="PATH",
        help="write to this file instead of standard output",
    )


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell, two spaces apart, no trailing blanks."""
    lines = [tuple(header), *(tuple(r) for r in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def age(delta: timedelta | None) -> str:
    """``2d 03h``, ``4h``, ``12m 30s``, ``45s``: two units at most; ``-`` for nothing."""
    if delta is None:
        return "-"
    seconds = max(int(delta.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d" + (f" {hours:02d}h" if hours else "")
    if hours:
        return f"{hours}h" + (f" {minutes:02d}m" if minutes else "")
    if minutes:
        return f"{minutes}m" + (f" {secs:02d}s" if secs else "")
    return f"{secs}s"


def when(moment: datetime | None) -> str:
    """A timestamp to the second, in its own offset (UTC as stored); ``-`` for nothing."""
    return "-" if moment is None else moment.isoformat(sep=" ", timespec="seconds")


def one_line(text: str, width: int = 80) -> str:
    """The first line of ``text``, cut to ``width`` characters with an ellipsis."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= width else first[: width - 1] + "…"


@contextmanager
def progress(*, total: int | None, desc: str, unit: str) -> Iterator[Callable[[int], object]]:
    """A function to call with each step's count: it moves a progress bar on stderr when
    stderr is a terminal and tqdm (the ``progress`` extra) is installed, else does nothing."""
    if tqdm is None:
        yield _ignore
        return
    with tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, disable=None, leave=False) as bar:
        yield bar.update


def _ignore(steps: int) -> None:
    pass
