"""The root exception of the ledger package and the failures it translates."""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every error raised by ``streams``."""


class LedgerUnavailable(LedgerError):
    """Kafka cannot be reached or refused a write; the message says how to fix it."""
