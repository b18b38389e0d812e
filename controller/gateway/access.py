"""What every gateway route shares: settings, state, JSON errors, the Origin check and auth.

Checks run in this order, before any object or Secret is read: path shape, Origin (browsers;
requests without Origin pass), authentication (TokenReview; 401), authorization
(SubjectAccessReview; 403).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Final

import aiohttp
from aiohttp import web

from controller.gateway.auth import Authenticator, AuthUnavailable, bearer
from controller.gateway.metrics import GatewayMetrics
from controller.gateway.refcount import SessionTracker
from controller.gateway.rewrite import query_token
from controller.sandboxagent.sessions import SessionActors
from shared.kube.client import KubeClient

log = logging.getLogger(__name__)

ROUTE_KEY: Final = web.RequestKey("route", str)


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    """Gateway behaviour (controller flags)."""

    router_url: str = ""
    """atenet-router base URL ("" = the in-cluster default)."""
    allowed_origins: tuple[str, ...] = ()
    """Browser Origins allowed besides same-origin; ``*`` allows any."""
    idle_suspend: float = 30.0
    """Seconds a session actor stays running after its last request."""
    request_timeout: float = 300.0
    """Seconds without upstream bytes before a proxied request fails."""
    connect_timeout: float = 10.0
    """Seconds to connect to the router."""
    ensure_timeout: float = 120.0
    """Seconds a session ensure may take (create/resume until /health answers)."""
    max_body: int = 4 * 1024 * 1024
    """Largest A2A request body accepted, in bytes."""


@dataclass(slots=True)
class Gateway:
    """The gateway's dependencies and shared state (one per process)."""

    kube: KubeClient
    auth: Authenticator
    metrics: GatewayMetrics
    settings: GatewaySettings = field(default_factory=GatewaySettings)
    sessions: SessionActors | None = None
    """None when ate-api is not configured (A2A answers 503)."""
    tracker: SessionTracker | None = None
    http: aiohttp.ClientSession | None = None
    """The one pooled client to the router (created on start, closed on stop)."""


GATEWAY: Final = web.AppKey("gateway", Gateway)


def error(status: int, message: str, **extra: Any) -> web.Response:
    """``{"error": message}`` with ``status``."""
    return web.json_response({"error": message, **extra}, status=status)


def origin_allowed(request: web.Request, allowed: tuple[str, ...]) -> bool:
    """No Origin (not a browser), same origin, a listed origin, or ``*``."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    origin = origin.strip().rstrip("/")
    if "*" in allowed or origin in {o.rstrip("/") for o in allowed}:
        return True
    return origin == f"{request.scheme}://{request.host}"


async def check_access(
    request: web.Request, gw: Gateway, resource: str, namespace: str, name: str
) -> web.Response | None:
    """Origin, then TokenReview, then SubjectAccessReview; a response when refused."""
    if not origin_allowed(request, gw.settings.allowed_origins):
        return error(403, "origin not allowed; add it to --gateway-allowed-origins")
    token = bearer(request.headers.get("Authorization", ""))
    if token is None and resource == "agentharnesses" and "Authorization" not in request.headers:
        token = query_token(request.query_string)  # browsers cannot set headers on WebSocket
    if token is None:
        return _unauthorized()
    try:
        caller = await gw.auth.authenticate(token)
        if caller is None:
            return _unauthorized()
        if not await gw.auth.authorize(caller, resource, namespace, name):
            log.info(
                "gateway access denied",
                extra={"kind": resource, "namespace": namespace, "object_name": name},
            )
            return error(
                403,
                f'forbidden: user "{caller.username}" cannot create {resource}/gateway '
                f'"{name}" in namespace "{namespace}"',
            )
    except AuthUnavailable as exc:
        return error(503, f"authentication unavailable: {exc}")
    return None


def _unauthorized() -> web.Response:
    response = error(401, "Unauthorized")
    response.headers["WWW-Authenticate"] = 'Bearer realm="kagent-substrate"'
    return response
