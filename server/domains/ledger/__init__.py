"""Who gets credit for each sale: attribution frozen on the order, commission plans, the ledger,
its periods, performance figures and leaderboards."""
