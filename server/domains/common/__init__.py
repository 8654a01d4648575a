"""Building blocks every domain shares: column types, errors, validation, idempotency."""
