"""Capped exponential backoff with jitter, for every retry loop in the client layer."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    """``delay(n) = min(cap, initial * factor**n) * (1 + jitter * U[-1, 1])``."""

    initial: float = 0.2
    """Seconds before the first retry."""
    cap: float = 30.0
    """Seconds: no delay is longer (before jitter)."""
    factor: float = 2.0
    """Growth per attempt."""
    jitter: float = 0.2
    """Fraction of the delay added or removed at random."""

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        base = min(self.cap, self.initial * self.factor ** min(attempt, 64))
        return max(0.0, base * (1 + self.jitter * (2 * rand() - 1)))
