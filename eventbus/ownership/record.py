"""The record of violations as JSON, for tools that read it (the extraction report).

    {"version": 1, "queries": [{"module": "orders", "table": "accounts_user",
      "owner": "accounts", "sql": "SELECT ...", "location": "orders/services/orders.py:42"}]}

One entry per (module, table, location), with the first statement seen there, sorted.
"""

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from eventbus.ownership.guard import Violation

RECORD_VERSION = 1


def record_document(seen: Iterable[Violation]) -> dict[str, Any]:
    """The JSON document of ``seen``: deduplicated by (module, table, location), sorted."""
    first: dict[tuple[str, str, str], Violation] = {}
    for violation in seen:
        first.setdefault((violation.module, violation.table, violation.location), violation)
    return {
        "version": RECORD_VERSION,
        "queries": [
            {
                "module": v.module,
                "table": v.table,
                "owner": v.owner,
                "sql": v.sql,
                "location": v.location,
            }
            for _, v in sorted(first.items())
        ],
    }


def write_record(path: Path, seen: Iterable[Violation]) -> None:
    """Write the document of ``seen`` to ``path`` (its directory is made; replaced whole)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record_document(seen), indent=2) + "\n", encoding="utf-8")
