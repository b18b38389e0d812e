"""Webhook metrics (SPEC §10) on a per-app registry; every label value comes from a fixed set.

Rule ids (``schema:required``, ``cel:<schema path>#<n>``, ``webhook:W1``) come from the CRD files
and the webhook-only rule table, so they are a fixed set too; a cap on distinct values still
bounds the denial series if that ever changes. The process collector adds ``process_*`` (memory,
CPU, start time: the dashboard's memory and restart panels).
"""

from __future__ import annotations

from typing import Final

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

_KINDS: Final = frozenset({"AgentHarness", "SandboxAgent"})
_OPERATIONS: Final = frozenset({"CREATE", "UPDATE", "DELETE", "CONNECT"})
_BAD_REASONS: Final = frozenset(
    {"content-type", "too-large", "malformed-json", "not-admission-review", "deadline", "internal"}
)
_BUCKETS: Final = (
    *(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    *(7.5, 10.0, 15.0, 20.0, 30.0),  # up to the API server's longest timeoutSeconds (30)
)
RULE_LABELS: Final = 256
"""Distinct ``rule`` label values kept; later ones count as ``other``."""
RULE_LENGTH: Final = 120


class WebhookMetrics:
    """Admission counters, latency, denials by rule, rejected requests, certificate expiry."""

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
        self._denials = Counter(
            "kagent_substrate_admission_denials_total",
            "Denied admission reviews by kind and rule id (one count per rule a denial cites).",
            ["kind", "rule"],
            registry=self.registry,
        )
        self._rules: set[str] = set()
        self._bad = Counter(
            "kagent_substrate_admission_bad_requests_total",
            "Requests answered without a verdict (HTTP 400/413, deadline or internal error), "
            "by reason.",
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
        ProcessCollector(registry=self.registry)

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

    def denied(self, kind: str, rules: tuple[str, ...]) -> None:
        """Count one denial under each rule it cites."""
        kind = kind if kind in _KINDS else "other"
        for cited in dict.fromkeys(rules):
            rule = cited[:RULE_LENGTH]
            if rule not in self._rules:
                if len(self._rules) >= RULE_LABELS:
                    rule = "other"
                else:
                    self._rules.add(rule)
            self._denials.labels(kind=kind, rule=rule).inc()

    def bad_request(self, reason: str) -> None:
        """Count one request answered without a verdict."""
        self._bad.labels(reason=reason if reason in _BAD_REASONS else "other").inc()

    def set_cert_expiry(self, timestamp: float) -> None:
        """Record the serving certificate's expiry (Unix seconds)."""
        self._expiry.set(timestamp)

    def render(self) -> bytes:
        """The Prometheus text exposition of this registry."""
        return bytes(generate_latest(self.registry))
