"""Set up Django for a benchmark against a throwaway SQLite file or PostgreSQL database."""

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")


def setup(db: str, name: str) -> str:
    """Point Django at a fresh database for this benchmark, migrate it, return a label."""
    sys.path.insert(0, str(ROOT))
    if db == "sqlite":
        path = Path(tempfile.mkdtemp()) / f"{name}.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    elif db == "postgres":
        import psycopg

        dbname = f"bench_{name}"
        with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
            conn.execute(f'CREATE DATABASE "{dbname}"')
        os.environ["DATABASE_URL"] = f"{POSTGRES_SERVER}/{dbname}"
    else:
        raise SystemExit(f"--db must be sqlite or postgres, not {db!r}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.bench"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return db
