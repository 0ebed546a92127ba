"""The root exception of the invoker package."""

from __future__ import annotations


class InvokerError(Exception):
    """Base of every error raised by ``invoker``."""


class ContainerError(InvokerError):
    """Docker could not create, start or control a container; the message says why."""
