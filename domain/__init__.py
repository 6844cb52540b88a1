"""Channel Ledger's domain: aggregates, value objects and errors. Pure: no I/O."""
