"""The gateway aiohttp application and server (every replica; not leader-gated).

Routes:

| route | what |
|---|---|
| ``* /api/a2a-sandboxes/{ns}/{name}{tail}`` | A2A sessions of a SandboxAgent (`controller.gateway.a2a`) |
| ``* /api/agentharnesses/{ns}/{name}{tail}`` | AgentHarness gateway proxy (`controller.gateway.harness`) |

One pooled aiohttp client to the router, with connect and read timeouts and proxy env vars
ignored, lives for the app's lifetime (``cleanup_ctx``). A middleware counts every request by
route and status (bounded labels) and logs one line without headers, query or body.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
from aiohttp import web

from controller.gateway import a2a, harness
from controller.gateway.access import GATEWAY, ROUTE_KEY, Gateway
from controller.runtime.health import HttpServer
from shared.serving.limits import ListenerLimits

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    gw = request.app[GATEWAY]
    start = time.monotonic()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        route = str(request.get(ROUTE_KEY, "other"))
        gw.metrics.observe(route, status, time.monotonic() - start)
        log.info(
            "gateway %s %s -> %d",
            request.method,
            route,
            status,
            extra={"route": route, "status": status},
        )


def make_app(gw: Gateway) -> web.Application:
    """The gateway app for ``gw`` (its HTTP client is created on startup, closed on cleanup)."""
    app = web.Application(middlewares=[_observe], client_max_size=gw.settings.max_body)
    app[GATEWAY] = gw

    async def client(_app: web.Application) -> AsyncIterator[None]:
        s = gw.settings
        gw.http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(
                total=None, connect=s.connect_timeout, sock_read=s.request_timeout
            ),
            connector=aiohttp.TCPConnector(limit=256, limit_per_host=0),
            trust_env=False,
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        try:
            yield
        finally:
            if gw.tracker is not None:
                await gw.tracker.close()
            await gw.http.close()
            gw.http = None

    app.cleanup_ctx.append(client)
    for root, handle in (
        ("/api/a2a-sandboxes", a2a.handle),
        ("/api/agentharnesses", harness.handle),
    ):
        app.router.add_route("*", root + "/{namespace}/{name}", handle)
        app.router.add_route("*", root + "/{namespace}/{name}{tail:/.*}", handle)
    return app


def gateway_server(
    gw: Gateway, bind: tuple[str, int], limits: ListenerLimits | None = None
) -> HttpServer:
    """An `HttpServer` serving the gateway app on ``bind`` (port 0: a free one)."""
    return HttpServer(make_app(gw), *bind, limits=limits)
