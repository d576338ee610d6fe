"""``python -m eventbus_tests.fresh_database``: make the settings' database anew and empty
(drop it first), so that ``migrate`` then runs every migration of the bus forward on it;
``--drop``: drop it only.

noxfile.py runs it in each cell before ``migrate``, ``check --database default`` and
``makemigrations --check``, and with ``--drop`` once the cell passed (a failed cell leaves
its database to look at); the tests themselves use a test database of their own.
"""

import os
import sys
from pathlib import Path

import django


def main(*, make: bool = True) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eventbus_tests.settings")
    django.setup()
    from django.db import connection

    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{name}{suffix}").unlink(missing_ok=True)
        return  # SQLite makes the file on the first connection
    quote = connection.ops.quote_name
    with connection._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {quote(name)}")
        if not make:
            return
        charset = " CHARACTER SET utf8mb4" if connection.vendor == "mysql" else ""
        cursor.execute(f"CREATE DATABASE {quote(name)}{charset}")
    print(f"made {connection.vendor} database {name} anew")


if __name__ == "__main__":
    main(make="--drop" not in sys.argv[1:])
