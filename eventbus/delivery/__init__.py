"""Internal: the delivery engine and what drives it (inline dispatch, batches, the due query,
the worker), with per-aggregate ordering and backoff."""
