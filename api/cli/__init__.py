"""``lwsk``: a command line in ``wsk``'s shape. One module per command group."""

from api.cli.main import main

__all__ = ["main"]
