"""Support for tests that drive the project from outside, one job a module.

- ``databases``: throwaway PostgreSQL databases read with plain SQL, and polling.
"""
