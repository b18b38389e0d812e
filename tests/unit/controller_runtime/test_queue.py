"""`controller/runtime/queue.py` and `ratelimit.py` with a fake clock."""

from __future__ import annotations

import asyncio

import pytest

from controller.runtime.clock import FakeClock
from controller.runtime.queue import WorkQueue
from controller.runtime.ratelimit import ItemBackoff, RateLimitConfig, RateLimiter, TokenBucket


def make_queue(clock: FakeClock, **cfg: float) -> WorkQueue[str]:
    config = RateLimitConfig(jitter=0.0, **cfg)  # type: ignore[arg-type]
    return WorkQueue(clock=clock, limiter=RateLimiter(config, clock, rand=lambda: 0.0))


async def test_add_deduplicates() -> None:
    q = make_queue(FakeClock())
    for key in ("a", "b", "a", "a", "b", "c"):
        q.add(key)
    assert len(q) == 3
    assert [await q.get(), await q.get(), await q.get()] == ["a", "b", "c"]


async def test_one_in_flight_and_dirty_re_add() -> None:
    q = make_queue(FakeClock())
    q.add("a")
    assert await q.get() == "a"
    q.add("a")  # changed while processing: not handed out twice
    q.add("a")
    assert len(q) == 0 and q.processing == {"a"}
    getter = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    assert not getter.done()
    q.done("a")  # now queued again, once
    assert await asyncio.wait_for(getter, 1) == "a"
    q.done("a")
    assert len(q) == 0 and not q.processing


async def test_add_after_keeps_the_earliest_schedule() -> None:
    clock = FakeClock()
    q = make_queue(clock)
    q.add_after("a", 10)
    q.add_after("a", 5)
    q.add_after("a", 20)
    assert q.waiting == 1 and len(q) == 0
    await clock.advance(4.9)
    assert len(q) == 0
    await clock.advance(0.2)
    assert len(q) == 1 and q.waiting == 0
    await clock.advance(30)
    assert len(q) == 1  # the 10 s and 20 s schedules were superseded
    q.add_after("b", 0)
    assert len(q) == 2


async def test_backoff_doubles_to_the_cap_and_forget_resets() -> None:
    b = ItemBackoff(RateLimitConfig(base_delay=0.005, max_delay=1.0, jitter=0.0))
    delays = [b.when("k") for _ in range(10)]
    assert delays[:4] == pytest.approx([0.005, 0.01, 0.02, 0.04])
    assert delays[-1] == 1.0 and max(delays) == 1.0
    assert b.retries("k") == 10 and b.when("other") == pytest.approx(0.005)
    b.forget("k")
    assert b.retries("k") == 0 and b.when("k") == pytest.approx(0.005)


def test_backoff_jitter_is_bounded() -> None:
    b = ItemBackoff(RateLimitConfig(base_delay=1.0, max_delay=1.0, jitter=0.1), rand=lambda: 1.0)
    assert b.when("k") == pytest.approx(1.1)


def test_token_bucket_limits_globally() -> None:
    clock = FakeClock()
    bucket = TokenBucket(qps=10, burst=2, clock=clock)
    assert [bucket.reserve() for _ in range(4)] == pytest.approx([0.0, 0.0, 0.1, 0.2])
    limiter = RateLimiter(RateLimitConfig(base_delay=0.005, qps=1, burst=1, jitter=0.0), clock)
    assert limiter.when("a") == pytest.approx(0.005)
    assert limiter.when("b") == pytest.approx(1.0)  # the bucket, not the fresh key, decides


async def test_rate_limited_retry_is_scheduled() -> None:
    clock = FakeClock()
    q = make_queue(clock, base_delay=1.0, max_delay=4.0)
    assert q.add_rate_limited("a") == pytest.approx(1.0)
    assert q.add_rate_limited("a") == pytest.approx(2.0)  # earliest (1 s) still wins
    await clock.advance(1.0)
    assert len(q) == 1 and q.retries("a") == 2
    q.forget("a")
    assert q.retries("a") == 0


async def test_shutdown_wakes_getters_and_drain_waits_for_in_flight() -> None:
    clock = FakeClock()
    q = make_queue(clock)
    q.add("a")
    assert await q.get() == "a"
    waiting = asyncio.create_task(q.get())
    q.add_after("b", 5)
    await asyncio.sleep(0)
    q.shutdown()
    assert await asyncio.wait_for(waiting, 1) is None
    assert q.waiting == 0 and clock.pending == 0
    q.add("c")
    assert len(q) == 0
    drained = asyncio.create_task(q.drain())
    await asyncio.sleep(0)
    assert not drained.done()
    q.done("a")
    await asyncio.wait_for(drained, 1)


async def test_cancel_delayed_drops_a_pending_timer() -> None:
    clock = FakeClock()
    q = make_queue(clock)
    q.add_after("k", 1.0)
    q.cancel_delayed("k")
    await clock.advance(2.0)
    assert len(q) == 0 and q.waiting == 0
    q.add_after("k", 5.0)  # a later schedule is honoured once the stale one is gone
    await clock.advance(5.0)
    assert len(q) == 1
