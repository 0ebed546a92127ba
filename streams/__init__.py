"""The activation ledger: events, topics, the Faust app and the controller."""
