"""Infrastructure: settings, persistence wiring, Kafka relay, broker and database helpers."""
