"""How long a failing key waits before its next try: per-key backoff, and a global bucket.

Per key (client-go ``ItemExponentialFailureRateLimiter``): ``base * 2**failures`` capped at
``cap``, with a little jitter so keys that failed together do not retry together; `forget`
resets it after a success. Globally (``BucketRateLimiter``): a token bucket of ``qps`` with
``burst`` so a mass failure cannot hammer the API. A retry waits for the longer of the two.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from controller.runtime.clock import Clock


@dataclass(frozen=True, slots=True)
class RateLimitConfig:
    """Retry pacing of one controller's queue."""

    base_delay: float = 0.005
    """Seconds before the first retry of a key."""
    max_delay: float = 60.0
    """Seconds: the per-key delay never exceeds this (before jitter)."""
    jitter: float = 0.1
    """Fraction of the per-key delay added at random (0 to ``jitter``)."""
    qps: float = 10.0
    """Global retries per second (token refill rate)."""
    burst: int = 100
    """Global bucket size."""


class ItemBackoff:
    """Per-key exponential backoff with a cap."""

    def __init__(self, config: RateLimitConfig, rand: Callable[[], float] = random.random) -> None:
        self._config = config
        self._rand = rand
        self._failures: dict[Hashable, int] = {}

    def when(self, key: Hashable) -> float:
        """Delay before the next try of ``key``; counts one more failure."""
        n = self._failures.get(key, 0)
        self._failures[key] = n + 1
        c = self._config
        delay = min(c.max_delay, c.base_delay * 2.0 ** min(n, 64))
        return delay * (1 + c.jitter * self._rand())

    def retries(self, key: Hashable) -> int:
        """Failures counted for ``key`` since it was last forgotten."""
        return self._failures.get(key, 0)

    def forget(self, key: Hashable) -> None:
        """Reset ``key`` (after a success or a terminal outcome)."""
        self._failures.pop(key, None)


class TokenBucket:
    """A token bucket that hands out reservations: the delay until a token is available."""

    def __init__(self, qps: float, burst: int, clock: Clock) -> None:
        self._qps = qps
        self._burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock.now()

    def reserve(self) -> float:
        """Take a token now (possibly borrowed); return seconds until it is really ours."""
        now = self._clock.now()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._qps)
        self._last = now
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self._qps


class RateLimiter:
    """The longer of the per-key backoff and the global bucket."""

    def __init__(
        self,
        config: RateLimitConfig,
        clock: Clock,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.items = ItemBackoff(config, rand)
        self.bucket = TokenBucket(config.qps, config.burst, clock)

    def when(self, key: Hashable) -> float:
        """Delay before retrying ``key``."""
        return max(self.items.when(key), self.bucket.reserve())

    def retries(self, key: Hashable) -> int:
        """Failures of ``key`` so far."""
        return self.items.retries(key)

    def forget(self, key: Hashable) -> None:
        """Stop tracking ``key``."""
        self.items.forget(key)
