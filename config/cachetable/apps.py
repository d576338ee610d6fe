"""Runs ``createcachetable`` after every ``migrate`` of the database it migrated."""

from typing import Any

from django.apps import AppConfig
from django.core.management import call_command
from django.db.models.signals import post_migrate


def create_cache_table(*, using: str, verbosity: int = 1, **kwargs: Any) -> None:
    """Make the table of every DatabaseCache in CACHES on ``using``; no-op when it exists."""
    call_command("createcachetable", database=using, verbosity=max(verbosity - 1, 0))


class CacheTableConfig(AppConfig):
    name = "config.cachetable"
    label = "cachetable"
    verbose_name = "Cache table"

    def ready(self) -> None:
        post_migrate.connect(create_cache_table, sender=self, dispatch_uid="cachetable")
