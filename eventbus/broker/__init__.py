"""Internal: the AMQP broker side of the bus: wire format, topology, relay, consumer, inbox."""
