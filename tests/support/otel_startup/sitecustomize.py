"""Test-only start-up hook: with EVENTBUS_TEST_SPANS_DIR set, export spans to files.

Python imports ``sitecustomize`` at start-up when it is on the path; the split-mode tests
put this directory on PYTHONPATH (tests.support.span_files.span_env) for the services'
processes, so that gunicorn (and the workers it forks), the worker and the consumer each
write their spans to the directory. Nothing in the project imports it.
"""

import os
from pathlib import Path

_directory = os.environ.get("EVENTBUS_TEST_SPANS_DIR")
if _directory:
    from tests.support.span_files import install

    install(Path(_directory))
