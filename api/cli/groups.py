"""Command groups that several CLI modules add commands to (``activation``, ``admin``)."""

from __future__ import annotations

import argparse
from typing import Any


def subcommands(groups: Any, name: str, help_: str) -> Any:
    """The sub-command set of group ``name``, created if no other module registered it."""
    parser = groups.choices.get(name) or groups.add_parser(name, help=help_)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return parser.add_subparsers(dest="command", required=True)
