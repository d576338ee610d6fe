"""Development: SQLite file under var/, DEBUG on, inline bus."""

from .base import *  # noqa: F403

DEBUG = True
DEMO_DATA_ALLOWED = True

# whitenoise serves STATIC_ROOT (and, with DEBUG, the apps' files): it warns when it is missing
# before the first collectstatic.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
