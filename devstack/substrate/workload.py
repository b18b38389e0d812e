"""The fake workload behind each actor: what a request reaches after the router forwards it.

The actor's booted process (`boot.Process`) decides two things: a container that failed to start
answers 500, and an OpenClaw gateway with a token answers 401 to any other bearer token; the
echo carries the SHA-256 of each env value the process booted with (never a value).

``/health`` answers 200 only while the actor is RUNNING; ``/stream?n=N&interval=S`` streams N
chunks; a WebSocket upgrade echoes messages; any other request is echoed back as JSON. A
workload told to fail (``POST /debug/workloads/<id>``) answers every request with that status.
"""

from __future__ import annotations

import asyncio
import hmac
from dataclasses import dataclass

from aiohttp import WSMsgType, web

from devstack.substrate.boot import Process
from devstack.substrate.state import RUNNING


@dataclass(slots=True)
class WorkloadState:
    """Per-actor knobs."""

    fail_status: int | None = None
    requests: int = 0


class Workloads:
    """All fake workloads, keyed by actor id (created on first use)."""

    def __init__(self) -> None:
        self.by_actor: dict[str, WorkloadState] = {}

    def get(self, actor_id: str) -> WorkloadState:
        """The workload of ``actor_id``."""
        return self.by_actor.setdefault(actor_id, WorkloadState())

    async def serve(
        self,
        request: web.Request,
        actor_id: str,
        pod_ip: str,
        status: int,
        process: Process | None = None,
    ) -> web.StreamResponse:
        """Answer ``request`` as the workload of ``actor_id`` running on ``pod_ip``.

        With a booted ``process``: a container that failed to start answers 500, and one whose
        startup script configured a gateway token answers 401 without that exact bearer token.
        """
        state = self.get(actor_id)
        state.requests += 1
        if state.fail_status is not None:
            return web.Response(
                status=state.fail_status, text="workload failure (fault injection)\n"
            )
        if request.path == "/health":
            if status == RUNNING:
                return web.Response(text="ok\n")
            return web.Response(status=503, text="not running\n")
        if process is not None and process.error:
            return web.Response(status=500, text=f"container failed to start: {process.error}\n")
        if process is not None and process.gateway_token is not None:
            sent = request.headers.get("Authorization", "")
            if not hmac.compare_digest(sent.encode(), f"Bearer {process.gateway_token}".encode()):
                return web.json_response(
                    {"error": "unauthorized: gateway token mismatch"}, status=401
                )
        upgrade = request.headers.get("Upgrade", "").lower() == "websocket"
        if upgrade:
            return await self._websocket(request)
        if request.path == "/stream":
            return await self._stream(request)
        body = await request.read()
        echo = {
            "actor": actor_id,
            "method": request.method,
            "path": request.path,
            "query": request.query_string,
            "raw_path": request.rel_url.raw_path,
            "raw_query": request.rel_url.raw_query_string,
            "host": f"{pod_ip}:80",
            "headers": {k: v for k, v in request.headers.items() if k.lower() != "host"},
            "body": body.decode("utf-8", "replace"),
        }
        if process is not None:
            echo["env_sha256"] = process.env_sha256
        return web.json_response(echo)

    @staticmethod
    async def _stream(request: web.Request) -> web.StreamResponse:
        try:
            count = min(int(request.query.get("n", "5")), 10_000)
            interval = min(float(request.query.get("interval", "0.01")), 5.0)
        except ValueError:
            return web.Response(status=400, text="n and interval must be numbers\n")
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        for i in range(count):
            await response.write(f"chunk {i}\n".encode())
            await asyncio.sleep(interval)
        await response.write_eof()
        return response

    @staticmethod
    async def _websocket(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await ws.send_str(msg.data)
            elif msg.type == WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
        return ws


def describe(workloads: Workloads) -> dict[str, object]:
    """JSON view for /debug."""
    return {
        k: {"fail_status": v.fail_status, "requests": v.requests}
        for k, v in workloads.by_actor.items()
    }
