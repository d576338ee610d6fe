"""orders tables."""
