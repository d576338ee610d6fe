"""Run manage.py in a fresh process: the project's events only, none defined by tests."""

import os
import subprocess
import sys
from functools import cache
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)


@cache
def manage(*args: str) -> str:
    """The standard output of ``manage.py *args`` (test settings); raises on failure."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout
