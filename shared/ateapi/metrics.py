"""Call metrics hooks (SPEC §10): an injected observer, or Prometheus on a given registry."""

from __future__ import annotations

from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram


class CallObserver(Protocol):
    """Receives one observation per call attempt; ``code`` is a gRPC status name or ``OK``."""

    def observe(self, method: str, code: str, seconds: float) -> None:
        """Record one attempt of ``method``."""


class PrometheusObserver:
    """`kagent_substrate_ateapi_requests_total{method,code}` and `…_request_duration_seconds{method}`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._requests = Counter(
            "kagent_substrate_ateapi_requests_total",
            "ate-api call attempts by method and gRPC status code.",
            ["method", "code"],
            registry=registry,
        )
        self._duration = Histogram(
            "kagent_substrate_ateapi_request_duration_seconds",
            "ate-api call attempt latency by method.",
            ["method"],
            registry=registry,
        )

    def observe(self, method: str, code: str, seconds: float) -> None:
        """Record one attempt of ``method``."""
        self._requests.labels(method=method, code=code).inc()
        self._duration.labels(method=method).observe(seconds)
