"""The work queue (client-go ``workqueue``): de-duplicated keys, one in flight per key.

A key added while queued is dropped (it is already waiting); a key added while a worker
processes it is marked dirty and queued again when that worker calls `done` — so a change
that lands mid-reconcile is never lost and a key never runs twice at once. `add_after`
schedules a key (keeping only the earliest schedule per key); `add_rate_limited` uses the
`RateLimiter`. `shutdown` stops handing out keys; `drain` waits for in-flight ones.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Hashable
from typing import Generic, TypeVar

from controller.runtime.clock import Clock, LoopClock, Timer
from controller.runtime.ratelimit import RateLimitConfig, RateLimiter

K = TypeVar("K", bound=Hashable)


class WorkQueue(Generic[K]):
    """De-duplicating, delaying, rate-limited queue of keys."""

    def __init__(self, *, clock: Clock | None = None, limiter: RateLimiter | None = None) -> None:
        self.clock: Clock = clock or LoopClock()
        self.limiter = limiter or RateLimiter(RateLimitConfig(), self.clock)
        self._queue: deque[K] = deque()
        self._dirty: set[K] = set()
        self._processing: set[K] = set()
        self._waiting: dict[K, tuple[float, Timer]] = {}
        self._ready = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._shutting_down = False

    def __len__(self) -> int:
        """Keys ready to be handed out (the depth metric)."""
        return len(self._queue)

    @property
    def shutting_down(self) -> bool:
        """True once `shutdown` was called."""
        return self._shutting_down

    @property
    def waiting(self) -> int:
        """Keys scheduled by `add_after` and not yet due."""
        return len(self._waiting)

    @property
    def processing(self) -> frozenset[K]:
        """Keys handed out and not yet `done`."""
        return frozenset(self._processing)

    def _wake(self) -> None:
        self._ready.set()

    def add(self, key: K) -> None:
        """Queue ``key`` unless it is queued already (or shutting down)."""
        if self._shutting_down or key in self._dirty:
            return
        self._dirty.add(key)
        if key in self._processing:
            return
        self._queue.append(key)
        self._wake()

    def add_after(self, key: K, delay: float) -> None:
        """Queue ``key`` after ``delay`` seconds (the earliest schedule per key wins)."""
        if self._shutting_down:
            return
        if delay <= 0:
            self.add(key)
            return
        due = self.clock.now() + delay
        current = self._waiting.get(key)
        if current is not None:
            if current[0] <= due:
                return
            current[1].cancel()
        self._waiting[key] = (due, self.clock.call_later(delay, lambda: self._fire(key)))

    def cancel_delayed(self, key: K) -> None:
        """Drop a pending `add_after` of ``key`` (a newer reconcile made it stale)."""
        current = self._waiting.pop(key, None)
        if current is not None:
            current[1].cancel()

    def _fire(self, key: K) -> None:
        self._waiting.pop(key, None)
        self.add(key)

    def add_rate_limited(self, key: K) -> float:
        """Queue ``key`` after its backoff; return the delay used."""
        delay = self.limiter.when(key)
        self.add_after(key, delay)
        return delay

    def forget(self, key: K) -> None:
        """Reset the backoff of ``key``."""
        self.limiter.forget(key)

    def retries(self, key: K) -> int:
        """Failures of ``key`` since it was last forgotten."""
        return self.limiter.retries(key)

    async def get(self) -> K | None:
        """The next key (now owned by the caller until `done`); None once shut down."""
        while not self._queue and not self._shutting_down:
            self._ready.clear()
            await self._ready.wait()
        if self._shutting_down:
            return None
        key = self._queue.popleft()
        self._processing.add(key)
        self._dirty.discard(key)
        self._idle.clear()
        return key

    def done(self, key: K) -> None:
        """Release ``key``; if it was added meanwhile, queue it again."""
        self._processing.discard(key)
        if key in self._dirty and not self._shutting_down:
            self._queue.append(key)
            self._wake()
        if not self._processing:
            self._idle.set()

    def shutdown(self) -> None:
        """Hand out no more keys; cancel scheduled ones; wake every waiting `get`."""
        self._shutting_down = True
        for _, timer in self._waiting.values():
            timer.cancel()
        self._waiting.clear()
        self._ready.set()

    async def drain(self) -> None:
        """Wait until no key is in flight."""
        await self._idle.wait()
