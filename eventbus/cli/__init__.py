"""The actions of `manage.py eventbus`, one module each.

Each module defines ``help`` (one line), ``add_arguments(parser)`` and
``run(command, **options)``; add a module and list it in ACTIONS to add an action
(``dead-letters`` is the module ``dead_letters``).

``arguments`` and ``output`` hold what the actions share and are no actions themselves.
"""

ACTIONS = [
    "catalog",
    "schema",
    "worker",
    "retry",
    "relay",
    "consume",
    "broker-permissions",
    "dead-letters",
    "replay",
    "purge",
    "stats",
    "extraction-report",
]
