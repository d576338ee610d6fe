"""The catalogue's rendering of versions, the externalised flag and unsubscribed events."""

from eventbus import Event
from eventbus.contracts import catalog
from eventbus.contracts.mermaid import render_mermaid
from eventbus.testing import isolated_event_registry
from eventbus_tests.sample import ThingHappened


def on_thing(event: Event) -> None: ...


def test_table_and_mermaid_show_externalised_events_and_newest_versions(subscribe):
    with isolated_event_registry():

        class ThingHappenedV2(Event):
            event_name = "samples.thing_happened"
            event_version = 2
            externalised = True

            thing_id: int

        subscribe(ThingHappenedV2, on_thing)
        entries = [e for e in catalog.build() if e.name == "samples.thing_happened"]

        table = catalog.render_table(entries).splitlines()
        diagram = render_mermaid(entries).splitlines()

    assert [e.version for e in entries] == [1, 2]
    assert entries[0].cls is ThingHappened
    assert [line.split() for line in table[1:]] == [
        ["samples.thing_happened", "1", "samples", "no", "-", "-"],
        [
            "samples.thing_happened",
            "2",
            "samples",
            "yes",
            "eventbus_tests",
            "eventbus_tests.test_catalog.on_thing",
        ],
    ]
    assert diagram == [
        "flowchart LR",
        '    m_eventbus_tests["eventbus_tests"]',
        '    m_samples["samples"]',
        '    m_samples -->|"samples.thing_happened v2 (externalised)"| m_eventbus_tests',
    ]
