"""Plain-HTTP probes and metrics: ``/healthz``, ``/readyz``, ``/metrics`` (aiohttp).

They always serve, on leader and standby alike (STYLE §2.9). ``/readyz`` answers 200 once
the caller's readiness check passes (caches synced; leading or standing by) and 503 with
the reason otherwise. The same app may serve all three, or the CLI may bind health and
metrics apart (``--health-bind``, ``--metrics-bind``).
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from shared.serving.limits import ListenerLimits
from shared.serving.site import BoundedSite

ReadyCheck = Callable[[], tuple[bool, str]]


def make_app(
    *, ready: ReadyCheck | None = None, registry: CollectorRegistry | None = None
) -> web.Application:
    """Probes when ``ready`` is given; ``/metrics`` when ``registry`` is given."""
    app = web.Application()
    if ready is not None:

        async def healthz(request: web.Request) -> web.Response:
            return web.Response(text="ok\n")

        async def readyz(request: web.Request) -> web.Response:
            ok, why = ready()
            return web.Response(status=200 if ok else 503, text=("ok" if ok else why) + "\n")

        app.router.add_get("/healthz", healthz)
        app.router.add_get("/livez", healthz)
        app.router.add_get("/readyz", readyz)
    if registry is not None:

        async def metrics(request: web.Request) -> web.Response:
            body = generate_latest(registry)
            return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

        app.router.add_get("/metrics", metrics)
    return app


class HttpServer:
    """One aiohttp app on one TCP address (port 0: a free one), within ``limits``."""

    def __init__(
        self,
        app: web.Application,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        limits: ListenerLimits | None = None,
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.limits = limits or ListenerLimits()
        self._runner: web.AppRunner | None = None
        self.site: BoundedSite | None = None

    @property
    def url(self) -> str:
        """``http://host:port``."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Bind and serve."""
        self._runner = web.AppRunner(
            self.app,
            access_log=None,
            shutdown_timeout=2.0,
            keepalive_timeout=self.limits.idle_timeout,
        )
        await self._runner.setup()
        self.site = BoundedSite(self._runner, self.host, self.port, limits=self.limits)
        await self.site.start()
        assert self.site.listener is not None
        self.port = int(self.site.listener.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
