"""Call metrics hooks (SPEC §10): an injected observer, or Prometheus on a given registry."""

from __future__ import annotations

from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram


class CallObserver(Protocol):
    """Receives one observation per call attempt; ``code`` is a gRPC status name or ``OK``."""

    def observe(self, method: str, code: str, seconds: float) -> None:
        """Record one attempt of ``method``."""

    def no_free_workers(self, method: str) -> None:
        """Record one answer saying the WorkerPool has no free worker (`NoFreeWorkers`)."""


class PrometheusObserver:
    """`kagent_substrate_ateapi_requests_total{method,code}`, `…_request_duration_seconds{method}`
    and `…_no_free_workers_total{method}` (the pool is full: a code alone cannot tell)."""

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
        self._no_free = Counter(
            "kagent_substrate_ateapi_no_free_workers_total",
            "ate-api answers saying the WorkerPool has no free worker, by method.",
            ["method"],
            registry=registry,
        )

    def observe(self, method: str, code: str, seconds: float) -> None:
        """Record one attempt of ``method``."""
        self._requests.labels(method=method, code=code).inc()
        self._duration.labels(method=method).observe(seconds)

    def no_free_workers(self, method: str) -> None:
        """Record one NoFreeWorkers answer to ``method``."""
        self._no_free.labels(method=method).inc()
