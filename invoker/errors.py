"""The root exception of the invoker package."""

from __future__ import annotations


class InvokerError(Exception):
    """Base of every error raised by ``invoker``."""


class ContainerError(InvokerError):
    """Docker could not create, start or control a container; the message says why."""


class ImageMissing(ContainerError):
    """The image to start is not on this host (the invoker never pulls)."""

    def __init__(self, image: str):
        super().__init__(f"image {image} is not on this host")
        self.image = image


class NoRoom(InvokerError):
    """The activation cannot get a container: the queue is full or its wait ran out."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.message = message
        self.reason = reason  # the ``reason`` annotation of the whisk error it ends with
