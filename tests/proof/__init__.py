"""A test-only app for the crash proofs: events, counting subscribers and load commands.

Installed only by ``tests.proof.settings``, which the subprocesses of
``tests/test_worker_crash.py`` run under; the pytest process never imports its handlers.
"""
