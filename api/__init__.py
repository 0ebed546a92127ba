"""The OpenWhisk-compatible REST API, authentication, entity store and the ``lwsk`` CLI."""
