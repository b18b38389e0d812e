"""Webhook metrics (SPEC §10) on a per-app registry; every label value comes from a fixed set."""

from __future__ import annotations

from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_KINDS: Final = frozenset({"AgentHarness", "SandboxAgent"})
_OPERATIONS: Final = frozenset({"CREATE", "UPDATE", "DELETE", "CONNECT"})
_BAD_REASONS: Final = frozenset(
    {"content-type", "too-large", "malformed-json", "not-admission-review", "deadline"}
)
_BUCKETS: Final = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class WebhookMetrics:
    """Admission counters, latency, rejected requests and certificate expiry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self._requests = Counter(
            "kagent_substrate_admission_requests_total",
            "Admission reviews answered, by kind, operation and verdict.",
            ["kind", "operation", "allowed"],
            registry=self.registry,
        )
        self._duration = Histogram(
            "kagent_substrate_admission_duration_seconds",
            "Time to answer one admission review (body read to response serialized).",
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self._bad = Counter(
            "kagent_substrate_admission_bad_requests_total",
            "Requests answered without a verdict (HTTP 400/413 or deadline), by reason.",
            ["reason"],
            registry=self.registry,
        )
        self._request_children: dict[tuple[str, str, bool], Counter] = {}
        """``labels()`` children by (kind, operation, allowed): skips label validation."""
        self._expiry = Gauge(
            "kagent_substrate_cert_expiry_timestamp_seconds",
            "Unix time the serving certificate expires.",
            registry=self.registry,
        )

    def observe(self, kind: str, operation: str, allowed: bool, seconds: float) -> None:
        """Count one answered review."""
        key = (kind, operation, allowed)
        child = self._request_children.get(key)
        if child is None:  # first review of this label set (a bounded set of children)
            child = self._requests.labels(
                kind=kind if kind in _KINDS else "other",
                operation=operation if operation in _OPERATIONS else "other",
                allowed="true" if allowed else "false",
            )
            if kind in _KINDS or kind == "other":
                self._request_children[key] = child
        child.inc()
        self._duration.observe(seconds)

    def bad_request(self, reason: str) -> None:
        """Count one request answered without a verdict."""
        self._bad.labels(reason=reason if reason in _BAD_REASONS else "other").inc()

    def set_cert_expiry(self, timestamp: float) -> None:
        """Record the serving certificate's expiry (Unix seconds)."""
        self._expiry.set(timestamp)

    def render(self) -> bytes:
        """The Prometheus text exposition of this registry."""
        return bytes(generate_latest(self.registry))
