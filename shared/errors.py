"""Roots of our error trees.

`InputError` is bad input from a user (a file, a flag, a manifest): it carries a message that
names the field and the fix, and maps to exit code 2 / HTTP 400. `TerminalError` stops retrying
a reconcile: it is reported as a condition, an event and a metric, not requeued.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input from a user; the message names the field and the fix."""


class TerminalError(Exception):
    """A reconcile outcome that retrying cannot change until the object changes."""

    def __init__(self, message: str, *, reason: str = "TerminalError") -> None:
        super().__init__(message)
        self.reason = reason
