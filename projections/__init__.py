"""CouchDB projections of the ledger: the writer, replay, views and the store client."""
