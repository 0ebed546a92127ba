"""A feed's fire as the API sees it, and what its answer means (pure).

The feed service fires a trigger like any client (``POST .../triggers/NAME``
with the owner's key) and adds one header, ``X-Ledgerwhisk-Feed-Fire``::

    fire=<32 hex>; cause=<32 hex>; feed=/whisk.system/alarms/alarm; proof=<hex>

``fire`` becomes the trigger activation's id, chosen before the first try
so that a fire tried again (after a crash) is recognised in the ledger;
``cause`` and ``feed`` become its ``cause``. ``proof`` is an HMAC-SHA256 of
the rest and the trigger's path, keyed with the system subject's key, which
only the platform's own processes read: a user cannot choose another
activation's id this way.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import Enum

from streams.ids import is_activation_id

HEADER = "X-Ledgerwhisk-Feed-Fire"
# OpenWhisk's providers end a feed on a 4xx other than these (utils.js
# shouldDisableTrigger, consumer.py __shouldDisable); the rest are tried again.
RETRIED_4XX = frozenset({408, 409, 429})


@dataclass(frozen=True)
class FeedFire:
    """One fire's identity: its activation id, the creating activation, the feed action."""

    fire_id: str
    cause_id: str
    feed: str

    def proof(self, secret: str, trigger_path: str) -> str:
        """The signature over this fire and ``trigger_path`` ("namespace/name")."""
        text = f"{trigger_path}|{self.fire_id}|{self.cause_id}|{self.feed}"
        return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()

    def header(self, secret: str, trigger_path: str) -> str:
        return (
            f"fire={self.fire_id}; cause={self.cause_id}; feed={self.feed}; "
            f"proof={self.proof(secret, trigger_path)}"
        )


def parse(value: str) -> tuple[FeedFire, str] | None:
    """The fire and its proof from a header value, or None when it is not well formed."""
    fields: dict[str, str] = {}
    for part in value.split(";"):
        name, sep, text = part.strip().partition("=")
        if not sep:
            return None
        fields[name] = text.strip()
    try:
        fire = FeedFire(fields["fire"], fields["cause"], fields["feed"])
        proof = fields["proof"]
    except KeyError:
        return None
    if not (is_activation_id(fire.fire_id) and is_activation_id(fire.cause_id)):
        return None
    if not fire.feed.startswith("/"):
        return None
    return fire, proof


def verified(value: str, secret: str, trigger_path: str) -> FeedFire | None:
    """The fire when its proof matches ``trigger_path`` under ``secret``, else None."""
    parsed = parse(value)
    if parsed is None:
        return None
    fire, proof = parsed
    return fire if hmac.compare_digest(fire.proof(secret, trigger_path), proof) else None


class Outcome(Enum):
    """What a fire's HTTP status means for the feed."""

    ACCEPTED = "accepted"  # 2xx (204: no active rule): done, move on
    ENDS = "ends"  # the trigger is gone, the key revoked, ...: the registration ends
    RETRY = "retry"  # the platform is busy or down: try the same fire again


def outcome_of(status: int) -> Outcome:
    if 200 <= status < 300:
        return Outcome.ACCEPTED
    if 400 <= status < 500 and status not in RETRIED_4XX:
        return Outcome.ENDS
    return Outcome.RETRY


def retry_delay_s(attempt: int, cap_s: float = 30.0) -> float:
    """Back-off before try ``attempt`` (1, 2, 4, ... seconds, at most ``cap_s``)."""
    return float(min(cap_s, 2 ** max(0, attempt - 1)))
