"""The root exception of the ledger package and the failures it translates."""

from __future__ import annotations

from streams.messages import KAFKA_DOWN


class LedgerError(Exception):
    """Base of every error raised by ``streams``."""


class LedgerUnavailable(LedgerError):
    """Kafka cannot be reached or refused a write; the message says how to fix it."""


def kafka_unavailable(bootstrap: str, exc: BaseException) -> LedgerUnavailable:
    """The error for Kafka not answering at ``bootstrap``: what failed, and how to fix it."""
    return LedgerUnavailable(KAFKA_DOWN.format(bootstrap=bootstrap, cause=repr(exc)))
