"""`controller/runtime/workers.py`: outcome -> queue op, metrics, reconcile id, one per key."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from controller.runtime.clock import FakeClock
from controller.runtime.queue import WorkQueue
from controller.runtime.ratelimit import RateLimitConfig, RateLimiter
from controller.runtime.result import Result, reconcile_id
from controller.runtime.workers import ReconcileMetrics, WorkerConfig, Workers
from shared.api.keys import ObjectKey
from shared.errors import TerminalError

K = ObjectKey("ns", "a")


def setup(
    reconciler: object, clock: FakeClock, workers: int = 1
) -> tuple[Workers, CollectorRegistry]:
    registry = CollectorRegistry()
    q: WorkQueue[ObjectKey] = WorkQueue(
        clock=clock, limiter=RateLimiter(RateLimitConfig(base_delay=1.0, jitter=0.0), clock)
    )
    w = Workers("ahr", reconciler, q, ReconcileMetrics(registry), WorkerConfig(workers=workers))  # type: ignore[arg-type]
    return w, registry


def scripted(outcomes: list[object]) -> Any:
    """A reconciler returning (or raising) ``outcomes`` in order."""

    async def reconciler(key: ObjectKey) -> Result:
        out = outcomes.pop(0)
        if isinstance(out, Exception):
            raise out
        assert isinstance(out, Result)
        return out

    return reconciler


def count(registry: CollectorRegistry, result: str) -> float:
    return (
        registry.get_sample_value(
            "kagent_substrate_reconcile_total", {"controller": "ahr", "result": result}
        )
        or 0.0
    )


async def test_outcomes_map_to_queue_operations(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    outcomes: list[object] = [
        Result(),
        Result(requeue_after=30),
        TerminalError("bad spec", reason="TemplateFailed"),
        RuntimeError("boom"),
    ]
    seen_ids: list[str] = []

    async def reconciler(key: ObjectKey) -> Result:
        seen_ids.append(reconcile_id.get())
        out = outcomes.pop(0)
        if isinstance(out, Exception):
            raise out
        assert isinstance(out, Result)
        return out

    w, registry = setup(reconciler, clock)
    q = w.queue
    assert await w.process(K) == "success"
    assert q.waiting == 0 and len(q) == 0
    assert await w.process(K) == "requeue_after"
    assert q.waiting == 1
    await clock.advance(30)
    assert len(q) == 1 and q.retries(K) == 0
    assert await q.get() == K
    q.done(K)
    with caplog.at_level(logging.INFO):
        assert await w.process(K) == "terminal"
    assert q.waiting == 0 and q.retries(K) == 0  # forgotten, no retry
    assert await w.process(K) == "error"
    assert q.waiting == 1 and q.retries(K) == 1
    await clock.advance(1.0)
    assert len(q) == 1
    assert [count(registry, r) for r in ("success", "requeue_after", "terminal", "error")] == [
        1,
        1,
        1,
        1,
    ]
    assert (
        registry.get_sample_value(
            "kagent_substrate_reconcile_duration_seconds_count", {"controller": "ahr"}
        )
        == 4
    )
    assert registry.get_sample_value("kagent_substrate_workqueue_depth", {"controller": "ahr"}) == 1
    assert len(set(seen_ids)) == 4 and all(seen_ids)
    terminal = next(r for r in caplog.records if "terminally" in r.getMessage())
    assert (
        terminal.reconcile_id == seen_ids[2]
        and "ns/a" in terminal.getMessage()
        and terminal.namespace == "ns"
    )  # type: ignore[attr-defined]
    assert reconcile_id.get() == ""


async def test_error_backoff_grows_per_key() -> None:
    clock = FakeClock()

    async def failing(key: ObjectKey) -> Result:
        raise ValueError("nope")

    w, _ = setup(failing, clock)
    for _ in range(3):
        await w.process(K)
    assert w.queue.retries(K) == 3
    await clock.advance(0.99)
    assert len(w.queue) == 0  # earliest schedule (1 s) still pending
    await clock.advance(0.02)
    assert len(w.queue) == 1


async def test_workers_run_keys_in_parallel_but_one_per_key() -> None:
    clock = FakeClock()
    running: set[ObjectKey] = set()
    peak = 0
    overlap = False
    release = asyncio.Event()
    calls: list[ObjectKey] = []

    async def reconciler(key: ObjectKey) -> Result:
        nonlocal peak, overlap
        overlap = overlap or key in running
        running.add(key)
        peak = max(peak, len(running))
        calls.append(key)
        await release.wait()
        running.discard(key)
        return Result()

    w, _ = setup(reconciler, clock, workers=4)
    task = asyncio.create_task(w.run())
    keys = [ObjectKey("ns", n) for n in "abc"]
    for k in keys:
        w.queue.add(k)
    await asyncio.wait_for(_until(lambda: len(running) == 3), 2)
    w.queue.add(keys[0])  # dirty while processing
    release.set()
    await asyncio.wait_for(_until(lambda: calls.count(keys[0]) == 2 and not running), 2)
    assert peak == 3 and not overlap
    await w.stop()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 2)


async def test_stop_lets_in_flight_reconcile_finish() -> None:
    clock = FakeClock()
    finished = asyncio.Event()
    started = asyncio.Event()

    async def slow(key: ObjectKey) -> Result:
        started.set()
        await asyncio.sleep(0.05)
        finished.set()
        return Result()

    w, _ = setup(slow, clock)
    task = asyncio.create_task(w.run())
    w.queue.add(K)
    await asyncio.wait_for(started.wait(), 2)
    await w.stop()
    assert finished.is_set()
    await asyncio.wait_for(task, 2)


async def _until(pred: object) -> None:
    while not pred():  # type: ignore[operator]
        await asyncio.sleep(0.001)


async def test_terminal_drops_a_requeue_an_earlier_pass_asked_for() -> None:
    clock = FakeClock()
    w, registry = setup(scripted([Result(requeue_after=30), TerminalError("fix")]), clock)
    assert await w.process(K) == "requeue_after"
    assert w.queue.waiting == 1
    assert await w.process(K) == "terminal"
    assert w.queue.waiting == 0  # no timed retry: only a change to the object enqueues it
    await clock.advance(60)
    assert len(w.queue) == 0
    assert count(registry, "terminal") == 1
