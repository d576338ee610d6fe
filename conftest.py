"""Project-wide pytest set-up: the bus's fixtures for every test."""

pytest_plugins = ["eventbus.testing"]
