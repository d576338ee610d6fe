"""Cross-module queries, read from the record a test run wrote with
``pytest --eventbus-ownership-record=PATH``:

    {"version": 1, "queries": [{"module": "orders", "table": "accounts_user",
      "owner": "accounts", "sql": "SELECT ...", "location": "orders/services/orders.py:42"}]}

Each entry is a query made by ``module`` on a table that ``owner`` owns.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventbus.exceptions import QueryRecordError

VERSION = 1
FIELDS = ("module", "table", "owner", "sql", "location")


@dataclass(frozen=True)
class QueryCoupling:
    module: str
    table: str
    owner: str
    sql: str
    location: str

    def as_dict(self) -> dict[str, str]:
        return {field: getattr(self, field) for field in FIELDS}


def load(path: Path) -> list[QueryCoupling]:
    """Every query of the record at ``path``, in its order. Raises QueryRecordError, naming
    the file and what is wrong with it, when it cannot be read or is not a version 1 record
    whose entries each hold the five fields as strings."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise QueryRecordError(f"Cannot read the query record {path}: {exc.strerror}.") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise QueryRecordError(f"The query record {path} is not JSON: {exc}.") from exc
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise QueryRecordError(
            f"The query record {path} is not a version {VERSION} record "
            f'({{"version": {VERSION}, "queries": [...]}}); write it again with '
            "`pytest --eventbus-ownership-record=PATH`."
        )
    entries = data.get("queries")
    if not isinstance(entries, list):
        raise QueryRecordError(f'The query record {path} has no "queries" list.')
    queries = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not all(isinstance(entry.get(f), str) for f in FIELDS):
            raise QueryRecordError(
                f"Query {index} of the record {path} is not an object with the strings "
                f"{', '.join(FIELDS)}."
            )
        queries.append(QueryCoupling(**{f: entry[f] for f in FIELDS}))
    return queries


def crossing(module: str, queries: list[QueryCoupling]) -> list[QueryCoupling]:
    """The queries ``module`` made on another module's tables, or another module made on
    its tables; each once, sorted."""
    return sorted(
        {q for q in queries if module in (q.module, q.owner) and q.module != q.owner},
        key=lambda q: (q.module, q.owner, q.table, q.location, q.sql),
    )
