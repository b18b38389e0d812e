"""The reconcile contract (controller-runtime ``pkg/reconcile``): a key in, a `Result` out.

A reconciler reads live state for the key and converges it; it never sees the event that
caused it (level-based). Return `Result()` when done, ``Result(requeue_after=s)`` to look
again later, raise to retry with backoff, raise `shared.errors.TerminalError` to stop until
the object changes. Never both requeue and raise: the raise wins.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from typing import Protocol

from shared.api.keys import ObjectKey

reconcile_id: contextvars.ContextVar[str] = contextvars.ContextVar("reconcile_id", default="")
"""The id of the reconcile running in this task (for log ``extra=``); set by the workers."""


@dataclass(frozen=True, slots=True)
class Result:
    """What a successful reconcile asks of the queue."""

    requeue_after: float | None = None
    """Seconds until this key is reconciled again; None: wait for the next event."""


class Reconciler(Protocol):
    """Converges one object; see the module docstring for the outcome contract."""

    async def __call__(self, key: ObjectKey) -> Result: ...
