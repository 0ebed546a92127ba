"""The activation ledger: its events and their encoding, topics, readers, and the controller."""
