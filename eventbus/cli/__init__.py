"""The actions of `manage.py eventbus`, one module each.

Each module defines ``help`` (one line), ``add_arguments(parser)`` and
``run(command, **options)``; add a module and list it in ACTIONS to add an action.
"""

ACTIONS = ["catalog", "schema", "worker", "retry", "relay", "consume"]
