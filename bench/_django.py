"""Set up Django for a benchmark against a throwaway SQLite file, PostgreSQL or MariaDB
database."""

import atexit
import os
import secrets
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
MARIADB_SERVER = os.environ.get("BENCH_MARIADB", "mysql://root@127.0.0.1:3306")


def create_postgres_database(name: str) -> str:
    """A new PostgreSQL database ``bench_<name>_<random>``, dropped when the process exits;
    returns its URL. The random part keeps benchmarks run side by side from colliding."""
    import psycopg

    dbname = f"bench_{name}_{secrets.token_hex(3)}"
    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')

    def drop() -> None:
        with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')

    atexit.register(drop)
    return f"{POSTGRES_SERVER}/{dbname}"


def create_mariadb_database(name: str) -> str:
    """A new MariaDB database ``bench_<name>_<random>``, dropped when the process exits;
    returns its URL."""
    sys.path.insert(0, str(ROOT))
    from tests.support.databases import Database, unique_name

    database = Database(MARIADB_SERVER, unique_name(f"bench_{name}"))
    database.create()
    atexit.register(database.drop)
    return database.url


def setup(db: str, name: str) -> str:
    """Point Django at a fresh database for this benchmark, migrate it, return a label."""
    sys.path.insert(0, str(ROOT))
    if db == "sqlite":
        path = Path(tempfile.mkdtemp()) / f"{name}.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    elif db == "postgres":
        os.environ["DATABASE_URL"] = create_postgres_database(name)
    elif db == "mariadb":
        os.environ["DATABASE_URL"] = create_mariadb_database(name)
    else:
        raise SystemExit(f"--db must be sqlite, postgres or mariadb, not {db!r}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.bench"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return db


def attach(url: str) -> None:
    """In a benchmark's child process: Django on the parent's (migrated) database."""
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.bench"
    import django

    django.setup()
