"""The session refcount / idle-suspend state machine on a fake clock (no sleeps)."""

from __future__ import annotations

import asyncio

import pytest

from controller.gateway.refcount import SessionTracker
from controller.runtime.clock import FakeClock

T = ("ns", "asr-a")
OTHER = ("ns", "asr-b")


class Recorder:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.gate: asyncio.Event | None = None

    async def __call__(self, actor_id: str, template: tuple[str, str]) -> None:
        self.calls.append(actor_id)
        if self.gate is not None:
            await self.gate.wait()


def tracker(clock: FakeClock, rec: Recorder, idle: float = 30) -> SessionTracker:
    return SessionTracker(rec, idle_delay=idle, clock=clock)


async def test_suspend_only_after_last_release_plus_idle() -> None:
    clock, rec = FakeClock(), Recorder()
    t = tracker(clock, rec)
    await t.acquire("s", T)
    await t.acquire("s", T)
    t.release("s", T)
    await clock.advance(100)
    assert rec.calls == [] and t.refs("s", T) == 1
    t.release("s", T)
    await clock.advance(29)
    assert rec.calls == []
    await clock.advance(1)
    assert rec.calls == ["s"]
    assert t.active() == 0


async def test_new_request_within_idle_cancels_suspend() -> None:
    clock, rec = FakeClock(), Recorder()
    t = tracker(clock, rec)
    await t.acquire("s", T)
    t.release("s", T)
    await clock.advance(20)
    await t.acquire("s", T)
    await clock.advance(60)
    assert rec.calls == [] and t.active() == 1
    t.release("s", T)
    await clock.advance(30)
    assert rec.calls == ["s"]


async def test_acquire_waits_for_suspend_in_flight_and_needs_ensure_again() -> None:
    clock, rec = FakeClock(), Recorder()
    rec.gate = asyncio.Event()
    t = tracker(clock, rec)
    ensures: list[int] = []

    async def ensure() -> str:
        ensures.append(1)
        return "ok"

    await t.acquire("s", T)
    assert await t.ensure_once("s", T, ensure) == "ok"
    assert await t.ensure_once("s", T, ensure) is None  # already ensured on this replica
    t.release("s", T)
    await clock.advance(30)
    assert rec.calls == ["s"]  # suspend started, blocked on the gate
    waiter = asyncio.create_task(t.acquire("s", T))
    await asyncio.sleep(0)
    assert not waiter.done()
    rec.gate.set()
    await waiter
    assert await t.ensure_once("s", T, ensure) == "ok"  # resumed through ensure
    assert len(ensures) == 2


async def test_concurrent_ensures_share_one() -> None:
    clock, rec = FakeClock(), Recorder()
    t = tracker(clock, rec)
    gate, calls = asyncio.Event(), []

    async def ensure() -> int:
        calls.append(1)
        await gate.wait()
        return 42

    for _ in range(5):
        await t.acquire("s", T)
    waiters = [asyncio.create_task(t.ensure_once("s", T, ensure)) for _ in range(5)]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(*waiters) == [42] * 5
    assert calls == [1]


async def test_failed_ensure_is_retried_and_error_shared() -> None:
    clock, rec = FakeClock(), Recorder()
    t = tracker(clock, rec)
    await t.acquire("s", T)

    async def boom() -> None:
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        await t.ensure_once("s", T, boom)

    async def fine() -> str:
        return "ok"

    assert await t.ensure_once("s", T, fine) == "ok"


async def test_same_actor_id_of_two_templates_is_two_sessions() -> None:
    clock, rec = FakeClock(), Recorder()
    t = tracker(clock, rec)
    await t.acquire("x", T)

    async def ok() -> str:
        return "ok"

    await t.ensure_once("x", T, ok)
    await t.acquire("x", OTHER)
    assert await t.ensure_once("x", OTHER, ok) == "ok"  # never skipped because of T's session
    assert t.active() == 2


async def test_forget_and_close() -> None:
    clock, rec = FakeClock(), Recorder()
    t = tracker(clock, rec)
    await t.acquire("a", T)
    t.release("a", T)
    t.forget("a", T)
    await clock.advance(60)
    assert rec.calls == [] and t.active() == 0
    await t.acquire("b", T)
    t.release("b", T)
    await t.close()
    assert rec.calls == ["b"]


async def test_cancelled_waiter_releases_its_reference() -> None:
    clock, rec = FakeClock(), Recorder()
    rec.gate = asyncio.Event()
    t = tracker(clock, rec)
    await t.acquire("s", T)
    t.release("s", T)
    await clock.advance(30)
    waiter = asyncio.create_task(t.acquire("s", T))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert t.refs("s", T) == 0
    rec.gate.set()
