"""Subscribers of accounts to other modules' events."""
