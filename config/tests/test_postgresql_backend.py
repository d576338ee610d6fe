"""config.postgresql: Django's health check, without a round trip while the socket is quiet."""

from typing import Any, cast

import psycopg
import pytest
from django.db import connection

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the PostgreSQL backend's health check (run make test-postgres)",
    ),
]


def test_the_project_uses_it_on_postgresql():
    assert connection.settings_dict["ENGINE"] == "config.postgresql"


def test_a_quiet_connection_is_usable_without_asking_the_server(monkeypatch):
    # given an open connection, used and idle (as between two requests)
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")

    # when its health is checked, no query may be sent
    def no_query(*args, **kwargs):
        raise AssertionError("the health check sent a query")

    monkeypatch.setattr(connection.connection, "cursor", no_query)
    assert connection.is_usable() is True


def test_a_connection_the_server_closed_is_found_and_replaced(settings):
    # given a connection with health checks on, which the server then terminates
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    admin_url = connection.connection.info.dsn
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    _wait_readable(connection.connection)

    # when the health check runs (as before a request's first query)
    assert connection.is_usable() is False
    wrapper = cast(Any, connection)  # the stubs do not declare Django's health-check flags
    wrapper.health_check_enabled, wrapper.health_check_done = True, False
    wrapper.close_if_health_check_failed()

    # then the dead connection is closed and the next query opens a new one
    assert connection.connection is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def _wait_readable(raw: psycopg.Connection, timeout: float = 5.0) -> None:
    import select

    readable, _, _ = select.select([raw.fileno()], [], [], timeout)
    assert readable, "the server's goodbye did not arrive"
