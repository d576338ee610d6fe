"""Django's PostgreSQL backend with a health check that costs no round trip while all is well.

With ``CONN_HEALTH_CHECKS`` Django asks the server ``SELECT 1`` before the first query of
every request that reuses a persistent connection: one round trip, about a tenth of a
gunicorn worker's time serving an order (docs/performance.md). Between requests nothing is
due from the server, so this backend looks at the connection's socket first: a server that
closed the connection (a restart, an idle timeout, ``pg_terminate_backend``) has sent its
goodbye or an end of file, and the socket is readable. Only then, or when psycopg already
knows the connection is closed or broken, is ``SELECT 1`` sent to decide. A socket that
is silent although the server is gone (a network cut with no reset) is no better served by
``SELECT 1``, which would wait just as long.
"""

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        # psycopg 3 tells a broken connection apart; psycopg2 only a closed one.
        if connection is None or connection.closed or getattr(connection, "broken", False):
            return False
        try:
            readable, _, _ = select.select([connection.fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        if not readable:
            return True
        return bool(super().is_usable())
