"""MariaDB only: the claims' partial indexes, as MariaDB can have them.

MariaDB has no partial indexes: Django creates each of them without its condition
(models.W037), so the outbox's ``eventbus_outbox_undispatched`` and ``eventbus_outbox_unrelayed``
become copies of the primary key, and a claim would read the whole delivered history in id
order to find the first undispatched row. Here each is made again under the same name, led
by the column its condition tests, so a claim reads only the rows the condition selects,
already in the claim's order: ``(dispatched_at, id)`` (undispatched rows are those with a
NULL ``dispatched_at``), ``(broker, id)`` and, for due deliveries, ``(status, priority,
next_attempt_at, id)``. The same names keep later migrations that drop them working. On
PostgreSQL and SQLite this does nothing.
"""

from collections.abc import Callable
from typing import Any

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

INDEXES = [
    # (table, index, the columns on MariaDB, the columns elsewhere)
    ("eventbus_outboxmessage", "eventbus_outbox_undispatched", "dispatched_at, id", "id"),
    ("eventbus_outboxmessage", "eventbus_outbox_unrelayed", "broker, id", "id"),
    (
        "eventbus_delivery",
        "eventbus_delivery_due",
        "status, priority DESC, next_attempt_at, id",
        "priority DESC, next_attempt_at, id",
    ),
]


def _rebuild(forward: bool) -> Callable[[Any, BaseDatabaseSchemaEditor], None]:
    def run(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
        if schema_editor.connection.vendor != "mysql":
            return
        for table, index, mariadb, plain in INDEXES:
            columns = mariadb if forward else plain
            schema_editor.execute(
                f"ALTER TABLE {table} DROP INDEX {index}, ADD INDEX {index} ({columns})"
            )

    return run


class Migration(migrations.Migration):
    atomic = False  # MariaDB cannot roll DDL back: each ALTER commits by itself

    dependencies = [("eventbus", "0008_dashboard")]

    operations = [migrations.RunPython(_rebuild(True), _rebuild(False))]
