"""Starts the process's runnables in groups and stops them in reverse (controller-runtime
``runnable_group``).

Order: servers (health, metrics; always serve) -> caches (watch sources; run on leader and
standby so a takeover starts warm) -> leader election -> wait for caches to sync -> wait for
leadership -> leader-gated runnables (workers). Stop reverses it: workers drain, the lease
is released, caches stop, servers stop. A lost lease stops everything and `run` raises
`LeaderLost` so the CLI exits non-zero; a crashed runnable stops everything and re-raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from controller.runtime.leader import LeaderElector, LeaderLost

log = logging.getLogger(__name__)

Run = Callable[[], Coroutine[Any, Any, None]]
Stop = Callable[[], Awaitable[None]]


@dataclass(slots=True)
class _Entry:
    name: str
    run: Run
    stop: Stop | None = None
    synced: asyncio.Event | None = None
    task: asyncio.Task[None] | None = None


class Manager:
    """Owns the lifecycle of one controller process."""

    def __init__(self, *, elector: LeaderElector | None = None, stop_timeout: float = 30.0) -> None:
        self.elector = elector
        self.stop_timeout = stop_timeout
        """Seconds each graceful stop may take before its task is cancelled."""
        self._servers: list[tuple[str, Run, Stop]] = []
        self._caches: list[_Entry] = []
        self._leader: list[_Entry] = []
        self._elector_task: asyncio.Task[None] | None = None
        self.started_leading = asyncio.Event()

    def add_server(self, name: str, start: Run, stop: Stop) -> None:
        """A server: ``start`` returns once bound; ``stop`` closes it. Always runs."""
        self._servers.append((name, start, stop))

    def add_cache(self, name: str, run: Run, synced: asyncio.Event | None = None) -> None:
        """A watch/source that runs on leader and standby; ``synced`` gates readiness."""
        self._caches.append(_Entry(name, run, synced=synced))

    def add_leader(self, name: str, run: Run, stop: Stop | None = None) -> None:
        """A runnable started only while leading (workers); ``stop`` drains it gracefully."""
        self._leader.append(_Entry(name, run, stop))

    def ready(self) -> tuple[bool, str]:
        """Readiness: every cache synced and, with election, leading or standing by."""
        for entry in self._caches:
            if entry.synced is not None and not entry.synced.is_set():
                return False, f"cache {entry.name} not synced"
        if self.elector is not None and (self._elector_task is None or self._elector_task.done()):
            return False, "leader election not running"
        return True, "ok"

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Run until ``stop`` is set (clean exit), the lease is lost, or a runnable fails."""
        stop = stop or asyncio.Event()
        started_servers: list[tuple[str, Stop]] = []
        failure: BaseException | None = None
        try:
            for name, start, stop_server in self._servers:
                await start()
                started_servers.append((name, stop_server))
            for entry in self._caches:
                entry.task = asyncio.create_task(entry.run(), name=f"cache-{entry.name}")
            if self.elector is not None:
                self._elector_task = asyncio.create_task(self.elector.run(), name="leader-election")
            failure = await self._until_leading(stop)
            if failure is None and not stop.is_set():
                self.started_leading.set()
                for entry in self._leader:
                    entry.task = asyncio.create_task(entry.run(), name=f"leader-{entry.name}")
                failure = await self._watch(stop)
        finally:
            await self._shutdown(started_servers)
        if failure is not None:
            raise failure

    def _tasks(self) -> list[asyncio.Task[None]]:
        tasks = [e.task for e in (*self._caches, *self._leader) if e.task is not None]
        if self._elector_task is not None:
            tasks.append(self._elector_task)
        return tasks

    async def _first(self, stop: asyncio.Event, *extra: Awaitable[object]) -> BaseException | None:
        """Wait for stop, any extra awaitable, or any runnable ending; the failure if one did."""
        waiters = [asyncio.ensure_future(stop.wait()), *(asyncio.ensure_future(a) for a in extra)]
        try:
            await asyncio.wait([*waiters, *self._tasks()], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
        for task in self._tasks():
            if task.done():
                exc = task.exception() if not task.cancelled() else asyncio.CancelledError()
                if exc is None:
                    exc = RuntimeError(f"{task.get_name()} ended unexpectedly")
                log.error("%s stopped: %s", task.get_name(), exc)
                return exc
        return None

    async def _until_leading(self, stop: asyncio.Event) -> BaseException | None:
        synced = [e.synced.wait() for e in self._caches if e.synced is not None]
        failure = await self._first(stop, asyncio.gather(*synced))
        if failure is not None or stop.is_set() or self.elector is None:
            return failure
        return await self._first(stop, self.elector.leading.wait())

    async def _watch(self, stop: asyncio.Event) -> BaseException | None:
        return await self._first(stop)

    async def _stop_entry(self, entry: _Entry) -> None:
        if entry.stop is not None and entry.task is not None and not entry.task.done():
            with contextlib.suppress(Exception, TimeoutError):
                await asyncio.wait_for(entry.stop(), self.stop_timeout)
        await _cancel(entry.task)

    async def _shutdown(self, servers: list[tuple[str, Stop]]) -> None:
        for entry in reversed(self._leader):
            await self._stop_entry(entry)
        await _cancel(self._elector_task)  # releases the lease if held
        for entry in reversed(self._caches):
            await _cancel(entry.task)
        for name, stop_server in reversed(servers):
            try:
                await asyncio.wait_for(stop_server(), self.stop_timeout)
            except Exception as exc:
                log.warning("server %s did not stop cleanly: %s", name, exc)


async def _cancel(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    if not task.done():
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError, LeaderLost, Exception):
        await task


__all__ = ["LeaderLost", "Manager"]
