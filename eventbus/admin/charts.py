"""Server-side SVG line charts: the geometry of a chart, which a template draws as ``<svg>``.

No JavaScript and no library: each series becomes ``<polyline>`` segments (a gap where a
value is None), with the y axis scaled to the largest value and labelled at its ends.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

WIDTH, HEIGHT = 600, 160
#: Room for the y labels (left) and the x labels (below).
LEFT, RIGHT, TOP, BOTTOM = 64, 8, 8, 20


@dataclass(frozen=True)
class Series:
    """One line: its name (the legend) and its ``points`` attributes, one per unbroken run
    of values. A run of one point repeats it, so its round line cap draws a dot."""

    name: str
    css: str
    segments: list[str]


@dataclass(frozen=True)
class Tick:
    """A label at (x, y), anchored at its ``anchor`` (SVG text-anchor)."""

    x: float
    y: float
    label: str
    anchor: str = "end"


@dataclass(frozen=True)
class LineChart:
    """What the template needs: ``kind`` goes in ``data-chart``; ``empty`` draws
    ``empty_text`` in place of the lines."""

    kind: str
    title: str
    width: int
    height: int
    series: list[Series]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    empty: bool
    empty_text: str

    @property
    def centre_x(self) -> float:
        return (self.plot_left + self.plot_right) / 2

    @property
    def centre_y(self) -> float:
        return (self.plot_top + self.plot_bottom) / 2


def line_chart(
    *,
    kind: str,
    title: str,
    times: Sequence[datetime],
    series: Sequence[tuple[str, str, Sequence[float | None]]],
    empty_text: str,
    y_label: Callable[[float], str] = lambda v: f"{v:g}",
    y_max: float | None = None,
    y_ticks: Sequence[float] | None = None,
    zero_is_data: bool = False,
) -> LineChart:
    """A chart of ``series`` (name, css class, one value per time, None for none) over
    ``times``. The y axis runs from 0 to ``y_max``, by default the largest value (at least
    1), labelled at ``y_ticks`` (default: both ends). Empty when every value is None, or
    0 too unless ``zero_is_data``."""
    values = [v for _, _, vs in series for v in vs if v is not None]
    top = y_max if y_max is not None else max([1.0, *values])
    width, height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + (width * i / max(len(times) - 1, 1))

    def y(value: float) -> float:
        return TOP + height - height * min(value, top) / top

    drawn = [
        Series(
            name,
            css,
            _segments([(x(i), y(v)) if v is not None else None for i, v in enumerate(vs)]),
        )
        for name, css, vs in series
    ]
    last = len(times) - 1
    x_ticks = [
        Tick(x(i), HEIGHT - 4, times[i].strftime("%H:%M"), "start" if i == 0 else "middle")
        for i in range(0, last, 15)
    ]
    if times:  # the current minute, at the right edge
        x_ticks.append(Tick(x(last), HEIGHT - 4, times[last].strftime("%H:%M"), "end"))
    return LineChart(
        kind=kind,
        title=title,
        width=WIDTH,
        height=HEIGHT,
        series=drawn,
        y_ticks=[Tick(LEFT - 6, y(v) + 4, y_label(v)) for v in (y_ticks or (0, top))],
        x_ticks=x_ticks,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        plot_top=TOP,
        plot_bottom=TOP + height,
        empty=not values if zero_is_data else not any(values),
        empty_text=empty_text,
    )


def _segments(points: list[tuple[float, float] | None]) -> list[str]:
    runs: list[list[tuple[float, float]]] = [[]]
    for point in points:
        if point is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(point)
    return [
        " ".join(f"{px:.1f},{py:.1f}" for px, py in (run if len(run) > 1 else run * 2))
        for run in runs
        if run
    ]
