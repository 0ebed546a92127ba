"""The invoker: container pool, Docker containers, runtime client, log collection."""
