"""Internal: the bus's storage layer. ``store_for(using)`` gives the store of a connection.

Every hand-written statement of the bus lives in this package: the interface in ``base``,
an implementation for any database in ``portable``, one for PostgreSQL in ``postgresql`` and
one for MariaDB in ``mariadb``.
"""

from django.db import DEFAULT_DB_ALIAS, connections

from eventbus.storage.base import Claimed, DeliveryKey, DeliveryRow, Failure, Store
from eventbus.storage.portable import PortableStore, envelope_of

__all__ = [
    "Claimed",
    "DeliveryKey",
    "DeliveryRow",
    "Failure",
    "Store",
    "envelope_of",
    "store_for",
]

_stores: dict[str, Store] = {}


def store_for(using: str = DEFAULT_DB_ALIAS) -> Store:
    """The store of the ``using`` connection: PostgreSQL's where the vendor is PostgreSQL,
    MariaDB's where it is MariaDB (Django's "mysql" vendor), the portable one elsewhere. One
    per alias, kept for the process."""
    store = _stores.get(using)
    if store is None:
        connection = connections[using]
        if connection.vendor == "postgresql":
            from eventbus.storage.postgresql import PostgresStore

            store = PostgresStore(using)
        elif connection.vendor == "mysql":
            from eventbus.storage.mariadb import MariaDBStore

            store = MariaDBStore(using)
        else:
            store = PortableStore(using)
        _stores[using] = store
    return store
