"""Transports move envelopes between processes: "local" (this database only) or "amqp"."""
