"""A gRPC status the simulator returns: code name plus the exact reference message."""

from __future__ import annotations

from typing import Final

INTERNAL_MESSAGE: Final = "internal server error"


class SimError(Exception):
    """An RPC outcome other than OK (code is a gRPC status name such as ``NOT_FOUND``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def internal() -> SimError:
    """The reference's catch-all: ``INTERNAL internal server error`` (spec §3.1)."""
    return SimError("INTERNAL", INTERNAL_MESSAGE)
