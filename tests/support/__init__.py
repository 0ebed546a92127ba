"""What tests share: one event factory, one API client, one way to wait."""
