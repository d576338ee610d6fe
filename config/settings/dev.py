"""Development: SQLite file under var/, DEBUG on, inline bus."""

from .base import *  # noqa: F403

DEBUG = True
DEMO_DATA_ALLOWED = True
