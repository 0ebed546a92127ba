"""``lwsk``: a command line in ``wsk``'s shape. One module per command group."""

from __future__ import annotations


def main() -> int:
    """The ``lwsk`` entry point (see ``api.cli.main``)."""
    from api.cli.main import main as run

    return run()
