"""The database cache's table, made by ``migrate``: an app whose post_migrate runs
``createcachetable`` (idempotent), so no setup step but ``migrate`` is needed."""
