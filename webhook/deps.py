"""`Deps`: what the handlers need, built once per process by ``server.run`` (no globals)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from aiohttp import web

from shared.policy.engine import PolicyEngine
from webhook.config import WebhookConfig
from webhook.metrics import WebhookMetrics
from webhook.tls import ReloadingCert


@dataclass(slots=True)
class State:
    """Mutable readiness facts, read by ``/readyz``."""

    cert: ReloadingCert | None = None
    draining: bool = False

    def not_ready(self) -> str:
        """Why the webhook is not ready, or ``""`` when it is."""
        if self.draining:
            return "shutting down"
        if self.cert is None or not self.cert.loaded:
            return "serving certificate not loaded"
        return ""


@dataclass(frozen=True, slots=True)
class Deps:
    """The composition root's products: config, compiled rules, metrics, readiness state."""

    config: WebhookConfig
    engine: PolicyEngine
    metrics: WebhookMetrics
    state: State = field(default_factory=State)


DEPS: Final = web.AppKey("deps", Deps)
