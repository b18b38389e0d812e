"""Session actor operations of a SandboxAgent (spec/sandboxagent_helm.md §6.4-6.6 with SPEC §5, §8).

One actor per chat session, created from the agent's template. An actor is this agent's only
when its ``actor_template_namespace/name`` is the agent's template: a session id that maps to
another agent's actor is refused (§9 #5), and agent cleanup finds sessions by template, never
by id prefix, so hashed ids are found too and ``foo-bar``'s sessions are never ``foo``'s (§9 #4,
#6). Ensure waits through SUSPENDING (then resumes; §9 #8) and returns only once the actor is
RUNNING and answers ``/health`` through the router, within a deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

from controller.substrate.actor import AteApi, delete_step, owned_by, quiesce_step
from shared.ateapi import errors as ate
from shared.ateapi.convert import Actor, ActorStatus

Template = tuple[str, str]


class SessionError(Exception):
    """A session operation failed; ``reason`` is a bounded metric label, the text is for callers."""

    reason = "error"


class SessionConflict(SessionError):
    """The session's actor id belongs to another ActorTemplate (another agent)."""

    reason = "conflict"


class NoFreeWorkers(SessionError):
    """ResumeActor refused for lack of capacity."""

    reason = "no_free_workers"


class NotReachable(SessionError):
    """The actor did not become RUNNING and reachable before the deadline."""

    reason = "timeout"


class Unavailable(SessionError):
    """ate-api could not be reached."""

    reason = "unavailable"


class ListingApi(AteApi, Protocol):
    """`AteApi` plus the paginated listing (every page)."""

    async def list_all_actors(self) -> list[Actor]: ...


Probe = Callable[[str], Awaitable[bool]]


class SessionActors:
    """Ensure / suspend / delete / delete-all over ate-api; stateless apart from its settings."""

    def __init__(
        self,
        ate_api: ListingApi,
        probe: Probe,
        *,
        ensure_timeout: float = 120.0,
        poll: float = 0.5,
        delete_timeout: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.ate = ate_api
        self.probe = probe
        self.ensure_timeout = ensure_timeout
        """Seconds ensure may take (create/resume + RUNNING + /health)."""
        self.poll = poll
        """Seconds between status checks while waiting."""
        self.delete_timeout = delete_timeout
        """Seconds a session delete may take (suspend -> delete -> gone)."""
        self._sleep = sleep

    async def _get_or_create(self, actor_id: str, template: Template) -> Actor:
        try:
            actor = await self.ate.get_actor(actor_id)
        except ate.NotFound:
            try:
                actor = await self.ate.create_actor(actor_id, template[0], template[1])
            except ate.AlreadyExists:  # a concurrent first message on another replica
                actor = await self.ate.get_actor(actor_id)
        if not owned_by(actor, template):
            raise SessionConflict(
                "this session id maps to an actor of another agent; use a different contextId"
            )
        return actor

    async def ensure(self, actor_id: str, template: Template) -> Actor:
        """Create or resume the session actor; return once RUNNING and reachable."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.ensure_timeout
        last: Actor | None = None
        try:
            while True:
                actor = last = await self._get_or_create(actor_id, template)
                if actor.status == ActorStatus.RUNNING:
                    if await self.probe(actor_id):
                        return actor
                elif actor.status in (ActorStatus.SUSPENDED, ActorStatus.UNSPECIFIED):
                    try:
                        last = await self.ate.resume_actor(actor_id)
                        continue
                    except ate.NoFreeWorkers as exc:
                        raise NoFreeWorkers(ate.NO_FREE_WORKERS_HINT) from exc
                    except (ate.Aborted, ate.FailedPrecondition):
                        pass  # another operation in flight (a suspend finishing): re-read
                # RESUMING / SUSPENDING (wait for SUSPENDED, then resume) / not reachable yet
                if loop.time() + self.poll > deadline:
                    break
                await self._sleep(self.poll)
        except (ate.Unavailable, ate.DeadlineExceeded) as exc:
            raise Unavailable(f"substrate ate-api unavailable: {exc}") from exc
        except ate.AteApiError as exc:
            if ate.is_no_free_workers(exc):
                raise NoFreeWorkers(ate.NO_FREE_WORKERS_HINT) from exc
            raise SessionError(f'substrate session actor "{actor_id}": {exc}') from exc
        status = "" if last.status == ActorStatus.RUNNING else f"actor status {last.status_label}: "
        raise NotReachable(
            f'substrate session actor "{actor_id}" not reachable via atenet-router: '
            f"{status}deadline of {self.ensure_timeout:g}s exceeded"
        )

    async def suspend(self, actor_id: str, template: Template) -> None:
        """Suspend a RUNNING/RESUMING/SUSPENDING session actor of ours; gone or foreign: no-op."""
        try:
            actor = await self.ate.get_actor(actor_id)
        except ate.NotFound:
            return
        if not owned_by(actor, template):
            return
        if actor.status in (ActorStatus.RUNNING, ActorStatus.RESUMING, ActorStatus.SUSPENDING):
            try:
                await self.ate.suspend_actor(actor_id)
            except ate.NotFound:
                return

    async def delete(self, actor_id: str, template: Template) -> bool:
        """Suspend -> delete -> confirmed gone, bounded by ``delete_timeout``; True when gone."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.delete_timeout
        while not await delete_step(self.ate, actor_id, template):
            if loop.time() > deadline:
                return False
            await self._sleep(min(self.poll, 0.2))
        return True

    async def delete_step(self, actor_id: str, template: Template) -> bool:
        """One step towards "``actor_id`` of ``template`` gone"; True when it is gone."""
        return await delete_step(self.ate, actor_id, template)

    async def list_sessions(self, template: Template) -> list[Actor]:
        """Every actor created from ``template`` (all pages)."""
        return [a for a in await self.ate.list_all_actors() if owned_by(a, template)]

    async def quiesce_step(self, template: Template, actor_id: str) -> bool:
        """True once ``actor_id`` (the golden actor) may outlive its template (see
        `controller.substrate.actor.quiesce_step`); else one SuspendActor."""
        return await quiesce_step(self.ate, actor_id, template)

    async def delete_all_step(self, template: Template, *, exclude: str = "") -> int:
        """One delete step for every session actor of ``template``; the number still present.

        ``exclude`` skips one id (the golden actor, deleted after the template).
        """
        remaining = 0
        for actor in await self.list_sessions(template):
            if actor.actor_id == exclude:
                continue
            if not await delete_step(self.ate, actor.actor_id, template):
                remaining += 1
        return remaining
