"""Demo data: a lived-in Accord for newcomers, seeded idempotently."""
