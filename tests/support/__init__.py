"""Support for tests that drive the project from outside, one job a module.

- ``databases``: throwaway PostgreSQL databases read with plain SQL, and polling;
- ``processes``: ``manage.py`` in a fresh process, free ports, the monolith served by
  gunicorn, a process's TCP connections from ``/proc``;
- ``http``: JSON requests through urllib;
- ``journey``: the user journey through the API, and the end state it leaves;
- ``rabbitmq``: the broker seen by an operator: the bus's queue names, messages, connections;
- ``register_users``: registrations in bulk, run inside the accounts service's process;
- ``span_files``: spans the processes export to JSON-lines files (``otel_startup`` loads it).
"""
