"""The extraction report as Markdown, or as JSON with stable keys."""

import json
from collections.abc import Sequence

from eventbus.operations.extraction.report import Report

RECORD_HINT = "`--queries PATH`, a record written by `pytest --eventbus-ownership-record=PATH`"


def as_json(report: Report) -> str:
    return json.dumps(report.as_dict(), indent=2)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(_cell(c) for c in row) + " |" for row in rows),
    ]


def _code(items: Sequence[str]) -> str:
    return ", ".join(f"`{item}`" for item in items) or "none"


def _section(title: str, lines: list[str]) -> list[str]:
    return ["", f"### {title}", "", *lines]


def _blockers(report: Report) -> list[str]:
    others = _code([m for m in report.modules if m != report.module])
    if report.extractable:
        return [
            f"**Extractable.** Nothing couples `{report.module}` to the other modules "
            f"({others}) but their events."
        ]
    blockers = report.blockers
    return [
        f"**Not extractable.** {len(blockers)} coupling(s) to the other modules ({others}) "
        "must go first:",
        "",
        *(f"- {line}" for line in blockers),
    ]


def _couplings(report: Report) -> list[str]:
    lines = _section(
        "Imports of other modules (blocking)",
        _table(
            ("importer", "imported", "where"),
            [(f"`{i.importer}`", f"`{i.imported}`", f"`{i.location}`") for i in report.imports],
        )
        if report.imports
        else ["None: it and the others import only each other's `events.py`."],
    )
    lines += _section(
        "Model relations (blocking)",
        _table(
            ("model", "field", "kind", "related model"),
            [(r.model, r.field, r.kind, r.related) for r in report.relations],
        )
        if report.relations
        else ["None."],
    )
    if report.queries is None:
        queries = [f"Not checked: no record of a test run's queries was given ({RECORD_HINT})."]
    elif report.queries:
        queries = _table(
            ("by", "table", "owner", "where", "SQL"),
            [(q.module, q.table, q.owner, f"`{q.location}`", q.sql) for q in report.queries],
        )
    else:
        queries = ["None in the record."]
    return lines + _section("Cross-module queries (blocking)", queries)


def _events(report: Report) -> list[str]:
    published = (
        _table(
            ("event", "version", "subscribers"),
            [(e.name, str(e.version), _code(e.subscribers)) for e in report.published],
        )
        if report.published
        else ["None."]
    )
    consumed = (
        _table(
            ("event", "version", "producer", "its handlers"),
            [(e.name, str(e.version), e.producer, _code(e.handlers)) for e in report.consumed],
        )
        if report.consumed
        else ["None."]
    )
    return _section("Events", ["Published:", "", *published, "", "Consumed:", "", *consumed])


def _urls(report: Report) -> list[str]:
    return _section(
        "URLs",
        _table(
            ("route", "name", "view"),
            [(f"`{u.route}`", u.name or "-", f"`{u.view}`") for u in report.urls],
        )
        if report.urls
        else ["None."],
    )


def _broker(report: Report) -> list[str]:
    broker = report.broker
    queue = (
        f"- queue: `{broker['queue']}` (dead letters: `{broker['dead_letter_queue']}`), "
        f"bound to {_code(broker['bindings'])}"
        if broker["queue"]
        else "- queue: none (it consumes no other module's events)"
    )
    return _section(
        "Broker topology",
        [
            f"- exchange: `{broker['exchange']}`",
            f"- publishes (routing keys): {_code(broker['publishes'])}",
            queue,
            "- its broker user's permissions (RabbitMQ regular expressions):",
            "",
            "```json",
            json.dumps(broker["permissions"], indent=2),
            "```",
        ],
    )


def _service(report: Report) -> list[str]:
    service = report.service
    naming = service["settings_naming_other_modules"]
    packages = [
        f"{p['package']} ({', '.join(p['distributions']) or 'not installed'})"
        for p in service["packages"]
    ]
    return _section(
        "Service settings",
        [
            f"- `INSTALLED_APPS`: {_code(service['installed_apps'])}",
            f"- `DATABASES`: a database of its own, with its tables {_code(service['tables'])}",
            "- `EVENTBUS`: "
            + ", ".join(f"`{k}`: `{v!r}`" for k, v in service["eventbus"].items())
            + "; `BROKER_URL` with a broker user of its own, allowed the permissions above",
            f"- settings its code reads: {_code(service['settings'])}",
            "- settings naming another module's code, to set otherwise: "
            + (", ".join(f"`{n['setting']} = {n['value']!r}`" for n in naming) or "none"),
            f"- outside packages it imports (their settings too): {_code(packages)}",
        ],
    )


def _settings(report: Report) -> list[str]:
    return _section(
        "Settings it reads",
        _table(
            ("setting", "where"),
            [(f"`{s.name}`", _code(s.locations)) for s in report.settings],
        )
        if report.settings
        else ["None."],
    )


def as_markdown(report: Report) -> str:
    lines = [
        f"## Extraction report: `{report.module}`",
        "",
        *_blockers(report),
        *_couplings(report),
        *_settings(report),
        *_events(report),
        *_urls(report),
        *_broker(report),
        *_service(report),
    ]
    return "\n".join(lines) + "\n"
