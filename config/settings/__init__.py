"""Settings per environment: base (shared), dev, test and production."""
