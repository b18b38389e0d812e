"""The atenet-router of spec §6: route by Host, wake the actor with ResumeActor, forward.

Differences from the real router (deliberate, documented in docs/devstack-substrate.md):
the workload is in-process instead of ``<pod ip>:80``, there is no 10 s whole-response
timeout, and WebSocket upgrades are passed through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
from typing import TYPE_CHECKING

from aiohttp import web

from devstack.substrate.errors import SimError
from devstack.substrate.machine import actor_id_problem
from devstack.substrate.state import ActorRecord

if TYPE_CHECKING:
    from devstack.substrate.server import Simulator

SUFFIX = ".actors.resources.substrate.ate.dev"
RESUME_BUDGET = 15.0

#: gRPC code → (HTTP status, body template) — spec §6.
ERROR_MAP: dict[str, tuple[int, str]] = {
    "NOT_FOUND": (404, 'actor "{id}" not found'),
    "FAILED_PRECONDITION": (503, 'actor "{id}" unavailable: {message}'),
    "UNAVAILABLE": (503, 'actor "{id}" unavailable'),
    "DEADLINE_EXCEEDED": (504, 'actor "{id}" request timed out'),
    "PERMISSION_DENIED": (403, 'actor "{id}" access denied'),
    "UNAUTHENTICATED": (401, 'actor "{id}" authentication required'),
    "RESOURCE_EXHAUSTED": (429, 'actor "{id}" rate limited'),
}


def parse_host(raw: str) -> tuple[str, str]:
    """(actor id, "") or ("", error body) for a Host header value."""
    host = raw
    if host.startswith("["):
        host = host.split("]", 1)[0] + "]"
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    if host.endswith("."):
        host = host[:-1]
    if not host.endswith(SUFFIX):
        return "", (
            f'invalid host "{raw}": invalid actor_id: must end with {SUFFIX[1:]}, got "{host}"'
        )
    label = host[: -len(SUFFIX)]
    problem = actor_id_problem(label) if label else "actor_id is required"
    if problem:
        return "", f'invalid host "{raw}": {problem}'
    return label, ""


def error_response(actor_id: str, err: SimError) -> web.Response:
    """The router's immediate response for a failed resume."""
    status, body = ERROR_MAP.get(err.code, (500, 'error resuming actor "{id}"'))
    return web.Response(status=status, text=body.format(id=actor_id, message=err.message))


class Waker:
    """ResumeActor per request, de-duplicated per id; ABORTED retried 7 times (200 ms, x1.5, jitter 0.2)."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.inflight: dict[str, asyncio.Task[ActorRecord]] = {}

    async def wake(self, actor_id: str) -> ActorRecord:
        """Resume (or join the resume in flight) and return the resulting record."""
        task = self.inflight.get(actor_id)
        if task is None:
            task = asyncio.create_task(self._resume(actor_id))
            self.inflight[actor_id] = task
            task.add_done_callback(lambda _t: self.inflight.pop(actor_id, None))
        return await asyncio.shield(task)

    async def _resume(self, actor_id: str) -> ActorRecord:
        delay = 0.2
        async with asyncio.timeout(RESUME_BUDGET):
            for attempt in range(8):
                try:
                    return await self.sim.control.resume(actor_id)
                except SimError as err:
                    if err.code != "ABORTED" or attempt == 7:
                        raise
                await asyncio.sleep(delay * (1 + 0.2 * (2 * random.random() - 1)))
                delay *= 1.5
        raise AssertionError("unreachable")


def make_router_app(sim: Simulator) -> web.Application:
    """The router's aiohttp app (every path, every method)."""
    waker = Waker(sim)

    async def route(request: web.Request) -> web.StreamResponse:
        raw = request.headers.get("Host", "")
        actor_id, problem = parse_host(raw)
        if problem:
            return web.Response(status=404, text=problem)
        try:
            actor = await waker.wake(actor_id)
        except SimError as err:
            return error_response(actor_id, err)
        except TimeoutError:
            return web.Response(status=504, text=f'actor "{actor_id}" request timed out')
        try:
            ipaddress.ip_address(actor.pod_ip)
        except ValueError:
            return web.Response(status=500, text=f'actor "{actor_id}" routing failed')
        current = sim.store.actors.get(actor_id)
        status = current.status if current is not None else 0
        process = sim.boots.process(actor_id)
        return await sim.workloads.serve(request, actor_id, actor.pod_ip, status, process)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", route)
    return app
