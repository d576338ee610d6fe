"""Development: SQLite file under var/, DEBUG on, inline bus."""

from config.env import env_bool

from .base import *  # noqa: F403

DEBUG = True
DEMO_DATA_ALLOWED = True
# A module's query of another module's table raises (docs/ownership.md).
EVENTBUS = {**EVENTBUS, "OWNERSHIP_GUARD": env_bool("EVENTBUS_OWNERSHIP_GUARD", True)}  # noqa: F405

# whitenoise serves STATIC_ROOT (and, with DEBUG, the apps' files): it warns when it is missing
# before the first collectstatic.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
