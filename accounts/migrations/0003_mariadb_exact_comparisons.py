"""MariaDB only: the two uniqueness rules of users that its defaults would bend.

MariaDB compares text by the column's collation, by default case- and accent-insensitive
(utf8mb4_general_ci): ``username`` and ``username_key`` (already NFKC-casefolded in Python)
would match names that differ (``ıvan`` and ``ivan``), so their columns compare bytes
(utf8mb4_bin), as on PostgreSQL. And MariaDB cannot index an expression, so the unique ``Lower("email")``
constraint is skipped there (models.W044): a generated, invisible column holds the lowered
email and carries the unique index instead. On PostgreSQL and SQLite this does nothing.
"""

from django.db import migrations

FORWARD = [
    "ALTER TABLE accounts_user "
    "MODIFY username varchar(150) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, "
    "MODIFY username_key varchar(150) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL",
    "ALTER TABLE accounts_user ADD COLUMN email_lower varchar(254) "
    "CHARACTER SET utf8mb4 COLLATE utf8mb4_bin AS (LOWER(email)) PERSISTENT INVISIBLE, "
    "ADD CONSTRAINT accounts_user_email_ci_unique UNIQUE (email_lower)",
]
BACKWARD = [
    "ALTER TABLE accounts_user DROP INDEX accounts_user_email_ci_unique, DROP COLUMN email_lower",
    "ALTER TABLE accounts_user MODIFY username varchar(150) NOT NULL, "
    "MODIFY username_key varchar(150) NOT NULL",
]


def _on_mariadb(statements: list[str]):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "mysql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    atomic = False  # MariaDB cannot roll DDL back: each ALTER commits by itself

    dependencies = [("accounts", "0002_username_key")]

    operations = [migrations.RunPython(_on_mariadb(FORWARD), _on_mariadb(BACKWARD))]
