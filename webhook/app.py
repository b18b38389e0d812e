"""The two aiohttp applications: admission (HTTPS) and health/metrics (plain HTTP)."""

from __future__ import annotations

from aiohttp import web

from webhook import handlers
from webhook.deps import DEPS, Deps


def make_app(deps: Deps) -> web.Application:
    """``POST /validate`` and ``POST /mutate``; bodies are read by the handlers through a cap."""
    app = web.Application(client_max_size=deps.config.max_body_bytes)
    app[DEPS] = deps
    app.router.add_post("/validate", handlers.validate)
    app.router.add_post("/mutate", handlers.mutate)
    return app


def make_health_app(deps: Deps) -> web.Application:
    """``GET /healthz``, ``GET /readyz`` and ``GET /metrics``."""
    app = web.Application()
    app[DEPS] = deps
    app.router.add_get("/healthz", handlers.healthz)
    app.router.add_get("/readyz", handlers.readyz)
    app.router.add_get("/metrics", handlers.metrics)
    return app
