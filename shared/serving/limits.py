"""The limits every listener of ours enforces (docs/security.md lists them with their flags).

The defaults follow kube-apiserver's own serving limits (``ReadHeaderTimeout`` 32 s,
``IdleTimeout`` 90 s) so a client gets no more from us than from the apiserver in front of us.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_HEADER_TIMEOUT = 32.0
DEFAULT_IDLE_TIMEOUT = 90.0
DEFAULT_MAX_CONNECTIONS = 128


@dataclass(frozen=True, slots=True)
class ListenerLimits:
    """Per-listener bounds on connections a client opens but does not use."""

    header_timeout: float = DEFAULT_HEADER_TIMEOUT
    """Seconds from accept until the first request's headers are complete (TLS handshake
    included); a connection still short of them is closed."""
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    """Seconds a kept-alive connection may wait for its next request (or its next request's
    headers) before it is closed."""
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    """Open connections at most. At the cap, a new connection first evicts the oldest one
    that has not yet sent a complete request; when every connection is serving, it is refused."""

    def __post_init__(self) -> None:
        if self.header_timeout <= 0:
            raise ValueError(f"header timeout must be > 0 seconds, got {self.header_timeout}")
        if self.idle_timeout <= 0:
            raise ValueError(f"idle timeout must be > 0 seconds, got {self.idle_timeout}")
        if self.max_connections < 1:
            raise ValueError(f"max connections must be >= 1, got {self.max_connections}")
