"""CouchDB projections of the ledger: the activation records, their writer, rebuild and compare."""
