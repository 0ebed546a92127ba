"""The code of the catalog's feed actions (python), installed by ``api/catalog.py``.

Each feed action runs in a container that reaches only the API (at
``__OW_API_HOST``): it forwards its lifecycle event and parameters to
``POST /api/v1/feeds`` (``api/feeds.py``) with the trigger owner's
``authKey``, and answers what the API answers: the provider's body, or
``{"error": text}`` (an application error) as OpenWhisk's feed actions do.
"""

from __future__ import annotations

SOURCE = """\
import base64
import json
import os
import urllib.error
import urllib.request

FEED = {feed!r}


def main(args):
    key = args.get("authKey") or os.environ.get("__OW_API_KEY", "")
    body = dict(args)
    body.pop("authKey", None)
    body["feed"] = FEED
    body["cause"] = os.environ.get("__OW_ACTIVATION_ID")
    request = urllib.request.Request(
        os.environ["__OW_API_HOST"].rstrip("/") + "/api/v1/feeds",
        data=json.dumps(body).encode(),
        method="POST",
        headers={{
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": "Basic " + base64.b64encode(key.encode()).decode(),
        }},
    )
    try:
        with urllib.request.urlopen(request, timeout=50) as response:
            return json.loads(response.read() or b"{{}}")
    except urllib.error.HTTPError as exc:
        try:
            answer = json.loads(exc.read() or b"{{}}")
        except ValueError:
            answer = {{}}
        return {{"error": answer.get("error") or "the feed answered HTTP %d" % exc.code}}
    except OSError as exc:
        return {{"error": "the feed could not be reached: %s" % exc}}
"""


def source(feed: str) -> str:
    """The action's code for the feed action ``feed`` ("/whisk.system/alarms/alarm")."""
    return SOURCE.format(feed=feed)
