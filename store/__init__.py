"""The CouchDB store every component uses: the client, and the design documents (views)."""
