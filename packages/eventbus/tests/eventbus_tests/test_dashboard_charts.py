"""The dashboard's SVG geometry: line charts with gaps and empty states, the module graph."""

from datetime import UTC, datetime, timedelta

from eventbus.admin import charts
from eventbus.admin.module_graph import module_graph
from eventbus.contracts.module_map import ModuleLink, ModuleMap

TIMES = [datetime(2026, 1, 1, 12, 0, tzinfo=UTC) + timedelta(minutes=i) for i in range(5)]


def chart(values, **options):
    return charts.line_chart(
        kind="k", title="t", times=TIMES, series=[("s", "s", values)], empty_text="none", **options
    )


def test_a_series_breaks_where_a_value_is_missing_and_a_lone_point_is_a_dot():
    drawn = chart([1, 2, None, 4, None])

    assert drawn.series[0].segments == [
        "64.0,107.0 196.0,74.0",  # 1 and 2, scaled to the largest value (4)
        "460.0,8.0 460.0,8.0",  # 4 alone: repeated, so its round cap draws a dot
    ]
    assert [t.label for t in drawn.x_ticks] == ["12:00", "12:04"]
    assert [t.label for t in drawn.y_ticks] == ["0", "4"]
    assert not drawn.empty


def test_zeros_are_empty_unless_zero_is_data():
    assert chart([0, 0, None, 0, 0]).empty
    assert chart([None] * 5, zero_is_data=True).empty
    assert not chart([0, None, None, None, None], zero_is_data=True).empty


def test_the_module_graph_parts_opposite_arrows_and_loops_a_module_to_itself():
    graph = module_graph(
        ModuleMap(
            modules=["accounts", "orders"],
            links=[
                ModuleLink("accounts", "accounts", ["accounts.a"]),
                ModuleLink("accounts", "orders", ["accounts.a", "accounts.b"]),
                ModuleLink("orders", "accounts", ["orders.c"]),
            ],
            unsubscribed=[],
        )
    )

    assert [(n.name, n.x, n.y) for n in graph.nodes] == [
        ("accounts", 60.0, 180.0),
        ("orders", 300.0, 180.0),
    ]
    loop, there, back = graph.arrows
    assert loop.path.startswith("M48.0,166.0 C")
    assert (there.path, there.label) == ("M112.0,188.0 L248.0,188.0", "2 events")
    assert (back.path, back.label, back.title) == (
        "M248.0,172.0 L112.0,172.0",
        "1 event",
        "orders.c",
    )
