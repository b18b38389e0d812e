"""Gateway metrics (SPEC §10): bounded labels only, never an object name, id or token."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

ROUTES = ("a2a", "a2a_card", "session_delete", "harness", "harness_ws", "other")
ENSURE_REASONS = ("no_free_workers", "timeout", "unavailable", "conflict", "error")


class GatewayMetrics:
    """Sessions active, ensure latency and errors, proxy latency and status."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        r = registry if registry is not None else CollectorRegistry()
        self.sessions_active = Gauge(
            "kagent_substrate_sessions_active",
            "Session actors this replica keeps running (requests in flight or idle delay).",
            registry=r,
        )
        self.requests = Counter(
            "kagent_substrate_gateway_requests_total",
            "Gateway requests by route and HTTP status.",
            ["route", "code"],
            registry=r,
        )
        self.duration = Histogram(
            "kagent_substrate_gateway_request_duration_seconds",
            "Gateway request duration (until the response is fully streamed).",
            ["route"],
            registry=r,
        )
        self.ensure = Histogram(
            "kagent_substrate_session_ensure_duration_seconds",
            "Time to create/resume a session actor until it answers /health.",
            registry=r,
        )
        self.ensure_errors = Counter(
            "kagent_substrate_session_ensure_errors_total",
            "Failed session ensures by reason.",
            ["reason"],
            registry=r,
        )

    def observe(self, route: str, status: int, seconds: float) -> None:
        """Count one finished request."""
        route = route if route in ROUTES else "other"
        self.requests.labels(route, str(status)).inc()
        self.duration.labels(route).observe(seconds)

    def ensure_failed(self, reason: str) -> None:
        """Count one failed ensure."""
        self.ensure_errors.labels(reason if reason in ENSURE_REASONS else "error").inc()
