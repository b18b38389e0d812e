"""Fault injection knobs for tests: latency per verb, forced error codes, dropped watches.

Configured in-process (``Faults.configure``) or over HTTP (``/devstack/faults``, admins
only), so subprocess e2e tests can use them too.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from devstack.kubeapi.errors import ApiError, bad_request

_REASONS = {
    400: "BadRequest",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    410: "Expired",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


@dataclass(slots=True)
class ForcedError:
    """Answer the next ``remaining`` matching requests with ``code``."""

    verb: str
    resource: str
    code: int
    remaining: int

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "verb": self.verb,
            "resource": self.resource,
            "code": self.code,
            "count": self.remaining,
        }


@dataclass(slots=True)
class Faults:
    """Current fault settings of one server."""

    latency: dict[str, float] = field(default_factory=dict)
    """Seconds added before handling each verb (``*`` for all)."""
    errors: list[ForcedError] = field(default_factory=list)

    def configure(self, body: dict[str, Any]) -> None:
        """Merge settings: ``{"latency": {verb: s}, "errors": [{verb, resource, code, count}]}``."""
        for verb, seconds in (body.get("latency") or {}).items():
            if not isinstance(seconds, int | float) or seconds < 0:
                raise bad_request(f"latency.{verb}: expected seconds >= 0, got {seconds!r}")
            self.latency[str(verb)] = float(seconds)
        for entry in body.get("errors") or []:
            code = entry.get("code")
            if code not in _REASONS:
                raise bad_request(
                    f"errors[].code: expected one of {sorted(_REASONS)}, got {code!r}"
                )
            self.errors.append(
                ForcedError(
                    str(entry.get("verb", "*")),
                    str(entry.get("resource", "*")),
                    int(code),
                    int(entry.get("count", 1)),
                )
            )

    def clear(self) -> None:
        """Remove every fault."""
        self.latency.clear()
        self.errors.clear()

    def as_dict(self) -> dict[str, Any]:
        """JSON form of the current settings."""
        return {"latency": dict(self.latency), "errors": [e.as_dict() for e in self.errors]}

    async def before(self, verb: str, resource: str, name: str) -> None:
        """Apply latency, then raise a forced error if one matches."""
        delay = self.latency.get(verb, self.latency.get("*", 0.0))
        if delay:
            await asyncio.sleep(delay)
        for err in self.errors:
            if err.remaining > 0 and err.verb in ("*", verb) and err.resource in ("*", resource):
                err.remaining -= 1
                self.errors = [e for e in self.errors if e.remaining > 0]
                raise _forced(err.code, resource, name)


def _forced(code: int, resource: str, name: str) -> ApiError:
    reason = _REASONS[code]
    if code == 409:
        message = (
            f'Operation cannot be fulfilled on {resource} "{name}": the object has been modified; '
            "please apply your changes to the latest version and try again"
        )
    elif code == 410:
        message = "too old resource version: 1 (2)"
    elif code == 429:
        return ApiError(
            429,
            reason,
            "Too many requests, please try again later.",
            details={"retryAfterSeconds": 1},
            headers={"Retry-After": "1"},
        )
    else:
        message = f"injected fault: {code} {reason}"
    return ApiError(code, reason, message, details={"name": name, "kind": resource})
