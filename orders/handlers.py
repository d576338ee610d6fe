"""Subscribers of orders to other modules' events."""
