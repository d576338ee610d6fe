"""The module map as SVG geometry: modules on a circle, one arrow per producer-consumer link.

A link both ways between two modules is drawn as two arrows set apart, a module's link to
itself as a loop above its box. Each arrow carries its events' count, and their names in a
``<title>`` (the table beside it lists them too).
"""

import math
from dataclasses import dataclass

from eventbus.contracts.module_map import ModuleMap

SIZE = 360
RADIUS = 120
#: Half a module box's width and height, and how far apart two opposite arrows run.
BOX_W, BOX_H, OFFSET = 48, 14, 8


@dataclass(frozen=True)
class Node:
    """A module's box, centred on (x, y)."""

    name: str
    x: float
    y: float

    @property
    def left(self) -> float:
        return self.x - BOX_W

    @property
    def top(self) -> float:
        return self.y - BOX_H

    @property
    def baseline(self) -> float:
        """Where the name's text sits, centred in the box."""
        return self.y + 4


@dataclass(frozen=True)
class Arrow:
    """``path`` is the SVG path's ``d``; the label sits at (lx, ly)."""

    producer: str
    consumer: str
    path: str
    lx: float
    ly: float
    label: str
    title: str


@dataclass(frozen=True)
class Graph:
    size: int
    nodes: list[Node]
    arrows: list[Arrow]
    box_width: int = 2 * BOX_W
    box_height: int = 2 * BOX_H


def module_graph(modules: ModuleMap) -> Graph:
    """Place the modules (sorted) clockwise from the left; one module sits in the middle."""
    count = len(modules.modules)
    centre = SIZE / 2
    places: dict[str, tuple[float, float]] = {}
    for i, name in enumerate(modules.modules):
        angle = math.pi + 2 * math.pi * i / count
        radius = RADIUS if count > 1 else 0
        places[name] = (
            round(centre + radius * math.cos(angle), 1),
            round(centre + radius * math.sin(angle), 1),
        )
    arrows = []
    for link in modules.links:
        n = len(link.events)
        label = f"{n} event{'s' if n != 1 else ''}"
        title = ", ".join(link.events)
        (x1, y1), (x2, y2) = places[link.producer], places[link.consumer]
        if link.producer == link.consumer:
            top = y1 - BOX_H
            path = f"M{x1 - 12:.1f},{top:.1f} C{x1 - 30:.1f},{top - 40:.1f} {x1 + 30:.1f},{top - 40:.1f} {x1 + 12:.1f},{top:.1f}"
            arrows.append(Arrow(link.producer, link.consumer, path, x1, top - 34, label, title))
            continue
        length = math.hypot(x2 - x1, y2 - y1)
        ux, uy = (x2 - x1) / length, (y2 - y1) / length
        nx, ny = -uy * OFFSET, ux * OFFSET  # to the arrow's right, so opposite ones part
        trim = _to_box_edge(ux, uy)
        sx, sy = x1 + ux * trim + nx, y1 + uy * trim + ny
        ex, ey = x2 - ux * trim + nx, y2 - uy * trim + ny
        path = f"M{sx:.1f},{sy:.1f} L{ex:.1f},{ey:.1f}"
        mx, my = (sx + ex) / 2 + nx * 1.6, (sy + ey) / 2 + ny * 1.6 + 4
        arrows.append(Arrow(link.producer, link.consumer, path, mx, my, label, title))
    return Graph(SIZE, [Node(n, *places[n]) for n in modules.modules], arrows)


def _to_box_edge(ux: float, uy: float) -> float:
    """How far from a box's centre a line in direction (ux, uy) leaves it, plus a gap."""
    along_x = BOX_W / abs(ux) if ux else math.inf
    along_y = BOX_H / abs(uy) if uy else math.inf
    return min(along_x, along_y) + 4
