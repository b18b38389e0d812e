"""Our Kubernetes API error tree: callers never see `ApiException` or aiohttp errors.

Every error is a `KubeError` carrying the HTTP status (``None`` for transport errors), the
Status ``reason`` and ``message``; the original exception is chained (``raise ... from``).
Non-JSON bodies (proxies, load balancers) are truncated to `BODY_LIMIT` characters so a
huge HTML page never lands in a log line. Like aiohttp, transport errors also inherit the
stdlib bases (`Timeout` is a `TimeoutError`, `Unavailable` a `ConnectionError`), so callers
may catch broadly or narrowly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

import aiohttp

BODY_LIMIT: Final = 256


class KubeError(Exception):
    """Any failed Kubernetes API call."""

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        reason: str = "",
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason
        self.details: dict[str, Any] = dict(details or {})


class BadRequest(KubeError):
    """400: the request itself is malformed."""


class Unauthorized(KubeError):
    """401: no or bad credentials."""


class Forbidden(KubeError):
    """403: RBAC denies the verb."""


class NotFound(KubeError):
    """404: the object (or its namespace, or the resource) does not exist."""


class AlreadyExists(KubeError):
    """409 AlreadyExists: create of a name that is taken."""


class Conflict(KubeError):
    """409 Conflict: the resourceVersion (or a precondition) is stale; re-read and retry."""

    retryable = True


class Gone(KubeError):
    """410: the resourceVersion is too old (watch, list continue); relist."""


class Invalid(KubeError):
    """422: the object fails validation; ``message`` is the apiserver's Status message."""


class TooManyRequests(KubeError):
    """429: throttled; ``retry_after`` seconds is the server's hint (None if absent)."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(KubeError):
    """5xx from the apiserver."""

    retryable = True


class Unavailable(ServerError, ConnectionError):
    """503, or the connection could not be made or was dropped."""


class Timeout(KubeError, TimeoutError):
    """The call's deadline passed (client-side), or the server answered 504."""

    retryable = True


_BY_STATUS: Final[dict[int, type[KubeError]]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    410: Gone,
    422: Invalid,
    503: Unavailable,
    504: Timeout,
}


def _retry_after(headers: Mapping[str, str] | None, details: Mapping[str, Any]) -> float | None:
    value: Any = (headers or {}).get("Retry-After") or details.get("retryAfterSeconds")
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def from_status(
    status: int, body: str | bytes | None, headers: Mapping[str, str] | None = None
) -> KubeError:
    """The error for an HTTP answer ``status`` with ``body`` (a Status object, or anything)."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
    doc: Any = None
    try:
        doc = json.loads(text) if text else None
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        message = str(doc.get("message") or "")
        reason = str(doc.get("reason") or "")
        raw = doc.get("details")
        details: dict[str, Any] = raw if isinstance(raw, dict) else {}
    else:
        message = text[:BODY_LIMIT] + ("..." if len(text) > BODY_LIMIT else "")
        reason, details = "", {}
    message = message or f"HTTP {status}"
    kw: dict[str, Any] = {"status": status, "reason": reason, "details": details}
    if status == 409:
        return (AlreadyExists if reason == "AlreadyExists" else Conflict)(message, **kw)
    if status == 429:
        return TooManyRequests(message, retry_after=_retry_after(headers, details), **kw)
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else KubeError
    return cls(message, **kw)


def from_exception(exc: BaseException, *, what: str = "request") -> KubeError:
    """Map a client-library or transport exception (not yet chained) to our tree."""
    from kubernetes_asyncio.client.exceptions import ApiException

    if isinstance(exc, KubeError):
        return exc
    if isinstance(exc, ApiException):
        headers = dict(exc.headers or {}) if exc.headers else None
        if exc.status:
            return from_status(int(exc.status), exc.body, headers)
        return KubeError(f"{what}: {str(exc.reason)[:BODY_LIMIT]}")
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return Timeout(f"{what}: deadline exceeded")
    if isinstance(exc, aiohttp.ClientResponseError):
        return from_status(exc.status, exc.message)
    if isinstance(exc, aiohttp.ClientError | ConnectionError | OSError):
        return Unavailable(f"{what}: {type(exc).__name__}: {str(exc)[:BODY_LIMIT]}")
    return KubeError(f"{what}: {type(exc).__name__}: {str(exc)[:BODY_LIMIT]}")
