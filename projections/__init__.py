"""Read models: rebate ledger, confirmation slips, spare-parts budgets and performance tables,
projected from the event log (eventsourcing.projection) and queried through `Reports`."""
