"""The hook ``lwsk trigger create --feed`` calls: a trigger's feed, set up by the feeds service.

``wsk`` (apache/openwhisk-cli ``commands/trigger.go``) creates the trigger with
a ``feed`` annotation, then invokes the feed action with ``lifecycleEvent:
CREATE``, ``triggerName`` (``/ns/name``) and ``authKey``, and deletes the
trigger again when that fails. ``api/cli/triggers.py`` does the same around
``create_feed``. Until the feeds service exists, ``create_feed`` refuses, and
the trigger it was called for is deleted again.
"""

from __future__ import annotations

from typing import Any

from api.cli import messages as m
from api.cli.client import Client
from api.cli.errors import CLIError


def create_feed(client: Client, trigger: str, feed: str, params: dict[str, Any]) -> None:
    """Ask the feed action ``feed`` (``/ns/pkg/feed``) to fire the trigger ``trigger``
    (``/ns/name``), with the feed parameters ``params``; raises ``CLIError`` on failure."""
    raise CLIError(m.FEEDS_NOT_AVAILABLE.format(feed=feed, trigger=trigger))
