"""The root exception of the invoker package."""

from __future__ import annotations

from streams.completion import Reason


class InvokerError(Exception):
    """Base of every error raised by ``invoker``."""


class ContainerError(InvokerError):
    """Docker could not create, start or control a container; the message says why."""


class ImageUnusable(ContainerError):
    """A container of ``image`` cannot serve: the image is the cause, not Docker.

    Its reference is invalid, it is not on this host, its container exits at
    once, or nothing answers on port 8080 in it. For a blackbox action that is
    the user's developer error; for a runtime image of ours, the invoker's fault.
    """

    def __init__(self, image: str, why: str):
        super().__init__(f"image {image}: {why}")
        self.image = image
        self.why = why


class ImageMissing(ImageUnusable):
    """The image to start is not on this host (the invoker never pulls)."""

    def __init__(self, image: str):
        super().__init__(image, "not on this host")


class NoRoom(InvokerError):
    """The activation cannot get a container: the queue is full or its wait ran out."""

    def __init__(self, message: str, reason: Reason):
        super().__init__(message)
        self.message = message
        self.reason = reason  # the ``reason`` annotation of the whisk error it ends with
