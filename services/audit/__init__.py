"""The auditor's tools over the event log: replay and compare, explain, verify, simulate."""
