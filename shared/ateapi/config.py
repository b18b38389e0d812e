"""Client settings for ate-api, grouped by concern, each field documented (STYLE §2.5)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from shared.ateapi.errors import ConfigError

DEFAULT_ENDPOINT: Final = "dns:///api.ate-system.svc:443"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries of idempotent calls on UNAVAILABLE / DEADLINE_EXCEEDED."""

    max_attempts: int = 3
    """Total attempts per call including the first (1 = no retry)."""
    initial_backoff: float = 0.1
    """Seconds before the first retry."""
    max_backoff: float = 2.0
    """Cap on the seconds between attempts."""
    multiplier: float = 2.0
    """Backoff growth per attempt."""
    jitter: float = 0.2
    """Random fraction (0..1) added or removed from each backoff."""

    def backoff(self, attempt: int, rand: float) -> float:
        """Seconds to wait after failed ``attempt`` (1-based); ``rand`` is uniform in [0, 1)."""
        base = min(self.max_backoff, self.initial_backoff * self.multiplier ** (attempt - 1))
        return max(0.0, base * (1.0 + self.jitter * (2.0 * rand - 1.0)))


@dataclass(frozen=True, slots=True)
class AteApiConfig:
    """How to reach ate-api and how patiently."""

    endpoint: str = DEFAULT_ENDPOINT
    """gRPC target (``dns:///host:port``, ``host:port``, ``ipv4:…``)."""
    ca_file: Path | None = None
    """PEM CA bundle that signed ate-api's certificate; None = system roots."""
    token_file: Path | None = None
    """Bearer token file, re-read and trimmed on every call; None = send no token."""
    insecure: bool = False
    """Skip certificate verification (still TLS): the server's own certificate is trusted."""
    tls_server_name: str = ""
    """Name to verify the certificate against instead of the endpoint host ("" = endpoint host)."""
    dial_timeout: float = 10.0
    """Seconds `AteApiClient.wait_ready` waits for a READY connection."""
    call_timeout: float = 30.0
    """Seconds per call attempt (deadline sent to the server)."""
    keepalive_time: float = 300.0
    """Seconds between HTTP/2 keepalive pings on busy connections; Go servers reject < 300 by default."""
    keepalive_timeout: float = 20.0
    """Seconds to wait for a ping ack before the connection is considered dead."""
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    """Retry policy for idempotent calls."""

    def validate(self) -> None:
        """Raise `ConfigError` naming the field and the fix when a setting cannot work."""
        if not self.endpoint.strip():
            raise ConfigError(
                "endpoint is required: set the ate-api endpoint, e.g. " + DEFAULT_ENDPOINT
            )
        for name in ("dial_timeout", "call_timeout", "keepalive_time", "keepalive_timeout"):
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise ConfigError(f"{name} must be a positive number of seconds, got {value!r}")
        if self.retry.max_attempts < 1:
            raise ConfigError(
                f"retry.max_attempts must be at least 1, got {self.retry.max_attempts}"
            )
        if self.retry.initial_backoff < 0 or self.retry.max_backoff < self.retry.initial_backoff:
            raise ConfigError("retry backoff must satisfy 0 <= initial_backoff <= max_backoff")
        if not 0 <= self.retry.jitter <= 1:
            raise ConfigError(f"retry.jitter must be within 0..1, got {self.retry.jitter}")
        if self.ca_file is not None and self.insecure:
            raise ConfigError("ca_file and insecure exclude each other: drop one of them")
