"""In-flight reference counting per session actor, with an idle delay before suspend (SPEC §8).

The reference suspends an actor when the *first* response finishes, while other requests on the
same session may still stream (sandboxagent §9 #7), and a message arriving while SUSPENDING
fails (§9 #8). Here, per session on this replica:

- ``acquire`` counts a request in and cancels a pending idle suspend; if this replica's own
  suspend is in flight it waits for it to finish (the caller's ensure then resumes the actor);
- ``release`` counts it out; the last one out starts the idle timer; the suspend runs only
  when the timer fires with no request in flight;
- ``ensure_once`` runs one ensure per session at a time: concurrent requests share it, and a
  session already ensured by this replica (and not suspended since) skips it.

State is per replica: another replica's requests are invisible here (document: route a session
to one replica, or accept that an idle replica may suspend an actor the router then wakes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from controller.runtime.clock import Clock, LoopClock, Timer

log = logging.getLogger(__name__)

T = TypeVar("T")
Template = tuple[str, str]
Key = tuple[Template, str]
Suspend = Callable[[str, Template], Awaitable[None]]


@dataclass(slots=True)
class _Session:
    template: Template
    refs: int = 0
    timer: Timer | None = None
    suspending: asyncio.Task[None] | None = None
    ensuring: asyncio.Future[object] | None = None
    ensured: bool = False


class SessionTracker:
    """Reference counts, idle timers and shared ensures of the sessions this replica serves."""

    def __init__(
        self,
        suspend: Suspend,
        *,
        idle_delay: float = 30.0,
        clock: Clock | None = None,
        on_change: Callable[[int], None] | None = None,
    ) -> None:
        self._suspend = suspend
        self.idle_delay = idle_delay
        """Seconds a session stays running after its last request ends."""
        self._clock = clock or LoopClock()
        self._on_change = on_change or (lambda _n: None)
        self._sessions: dict[Key, _Session] = {}

    def refs(self, actor_id: str, template: Template) -> int:
        """Requests in flight on ``actor_id`` (of ``template``)."""
        s = self._sessions.get((template, actor_id))
        return s.refs if s else 0

    def active(self) -> int:
        """Sessions this replica keeps running (requests in flight or within the idle delay)."""
        return len(self._sessions)

    def _changed(self) -> None:
        self._on_change(len(self._sessions))

    async def acquire(self, actor_id: str, template: Template) -> None:
        """Count a request in; waits for this replica's own suspend of the session to finish."""
        key = (template, actor_id)
        s = self._sessions.get(key)
        if s is None:
            s = self._sessions[key] = _Session(template)
            self._changed()
        s.refs += 1
        if s.timer is not None:
            s.timer.cancel()
            s.timer = None
        task = s.suspending
        if task is not None and not task.done():
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                if not task.cancelled():
                    self.release(actor_id, template)
                    raise
            except Exception:  # the suspend's own failure is logged by it
                pass

    def release(self, actor_id: str, template: Template) -> None:
        """Count a request out; the last one out starts the idle timer."""
        s = self._sessions.get((template, actor_id))
        if s is None or s.refs == 0:
            return
        s.refs -= 1
        if s.refs == 0:
            s.timer = self._clock.call_later(self.idle_delay, lambda: self._idle(actor_id, s))

    def invalidate(self, actor_id: str, template: Template) -> None:
        """Forget that the session was ensured (the next request ensures again)."""
        s = self._sessions.get((template, actor_id))
        if s is not None:
            s.ensured = False

    def _idle(self, actor_id: str, s: _Session) -> None:
        s.timer = None
        if s.refs or self._sessions.get((s.template, actor_id)) is not s:
            return
        s.ensured = False
        s.suspending = asyncio.create_task(self._run_suspend(actor_id, s))

    async def _run_suspend(self, actor_id: str, s: _Session) -> None:
        try:
            await self._suspend(actor_id, s.template)
        except Exception as exc:  # best effort: the actor stays running until the next idle
            log.warning("idle suspend failed: %s", type(exc).__name__, extra={"actor_id": actor_id})
        finally:
            key = (s.template, actor_id)
            if s.refs == 0 and s.timer is None and self._sessions.get(key) is s:
                del self._sessions[key]
                self._changed()

    async def ensure_once(
        self, actor_id: str, template: Template, ensure: Callable[[], Awaitable[T]]
    ) -> T | None:
        """Run ``ensure`` unless this replica already ensured the session; share one in flight.

        Returns ``ensure``'s result, or None when it was skipped. A caller that goes away does
        not cancel the shared ensure.
        """
        s = self._sessions.get((template, actor_id))
        if s is None:
            raise RuntimeError("ensure_once before acquire")
        if s.ensured:
            return None
        if s.ensuring is None or s.ensuring.done():
            fut: asyncio.Future[object] = asyncio.ensure_future(ensure())
            s.ensuring = fut

            def done(f: asyncio.Future[object]) -> None:
                if not f.cancelled() and f.exception() is None:
                    s.ensured = True

            fut.add_done_callback(done)
        result = await asyncio.shield(s.ensuring)
        return result  # type: ignore[return-value]

    def forget(self, actor_id: str, template: Template) -> None:
        """Drop a session (it was deleted): cancel its idle timer, no suspend."""
        s = self._sessions.pop((template, actor_id), None)
        if s is not None:
            if s.timer is not None:
                s.timer.cancel()
            self._changed()

    async def close(self) -> None:
        """Shutdown: suspend every idle session now; wait for suspends in flight."""
        for (_, actor_id), s in list(self._sessions.items()):
            if s.timer is not None:
                s.timer.cancel()
                s.timer = None
                if s.refs == 0:
                    s.suspending = asyncio.create_task(self._run_suspend(actor_id, s))
        tasks = [s.suspending for s in self._sessions.values() if s.suspending is not None]
        for task in tasks:
            with contextlib.suppress(Exception):
                await task
