"""Typed ate-api errors: every gRPC failure leaves the client as one of these.

The tree is rooted in `AteApiError`; `grpc.RpcError` never escapes the client (STYLE §2.6).
Classification follows spec/ateapi.md §7.3: NOT_FOUND by code only; "no free workers" by
FAILED_PRECONDITION + message, or by the text under any code (the reference's fallback).
"""

from __future__ import annotations

from typing import Final

from shared.errors import InputError

NO_FREE_WORKERS_HINT: Final = (
    "substrate worker pool has no free workers; try again later or increase WorkerPool replicas"
)


class AteApiError(Exception):
    """Any failure of an ate-api call; ``code`` is the gRPC status name (``NOT_FOUND``)."""

    retryable: bool = False

    def __init__(self, method: str, code: str, details: str, *, hint: str = "") -> None:
        self.method = method
        self.code = code
        self.details = details
        self.hint = hint
        text = f"ate-api {method}: {details} ({code})" if method else f"substrate: {details}"
        super().__init__(f"{text}; {hint}" if hint else text)


class ConfigError(AteApiError, InputError):
    """The client configuration is invalid; the message names the field and the fix."""

    def __init__(self, details: str) -> None:
        super().__init__("", "INVALID_CONFIG", details)


class TokenFileError(AteApiError):
    """The bearer token file is missing, unreadable or blank (raised before any RPC)."""


class NotFound(AteApiError):
    """The actor does not exist."""


class AlreadyExists(AteApiError):
    """An actor with this id already exists."""


class InvalidArgument(AteApiError):
    """The server rejected the request's fields."""


class FailedPrecondition(AteApiError):
    """The server refused the call in the current state."""


class NoFreeWorkers(FailedPrecondition):
    """The template's WorkerPool has no free worker (``no free workers available``)."""


class NotSuspended(FailedPrecondition):
    """DeleteActor on an actor that is not SUSPENDED."""


class TemplateNotFound(FailedPrecondition):
    """CreateActor named an ActorTemplate ate-api does not know (yet)."""


class Aborted(AteApiError):
    """Lock or optimistic-version conflict at the server; safe to retry later."""


class Unauthenticated(AteApiError):
    """The server rejected the bearer token."""


class PermissionDenied(AteApiError):
    """The caller may not perform this call."""


class ResourceExhausted(AteApiError):
    """The server is rate limiting the caller."""


class Internal(AteApiError):
    """The server failed (ate-api reports most non-status errors as ``internal server error``)."""


class Unavailable(AteApiError):
    """ate-api could not be reached (or dropped the connection)."""

    retryable = True


class TlsError(Unavailable):
    """The TLS handshake failed (e.g. certificate verification); retrying cannot help."""

    retryable = False


class DeadlineExceeded(AteApiError):
    """The per-call deadline passed before the server answered."""

    retryable = True


class Cancelled(AteApiError):
    """The call was cancelled."""


class UnknownError(AteApiError):
    """A status code this client does not classify."""


_BY_CODE: Final[dict[str, type[AteApiError]]] = {
    "NOT_FOUND": NotFound,
    "ALREADY_EXISTS": AlreadyExists,
    "INVALID_ARGUMENT": InvalidArgument,
    "FAILED_PRECONDITION": FailedPrecondition,
    "ABORTED": Aborted,
    "UNAUTHENTICATED": Unauthenticated,
    "PERMISSION_DENIED": PermissionDenied,
    "RESOURCE_EXHAUSTED": ResourceExhausted,
    "INTERNAL": Internal,
    "UNAVAILABLE": Unavailable,
    "DEADLINE_EXCEEDED": DeadlineExceeded,
    "CANCELLED": Cancelled,
}

_TLS_MARKERS: Final = ("tls handshake failed", "ssl handshake failed", "certificate_verify_failed")


def is_tls_failure(details: str) -> bool:
    """True when a transport failure text says the TLS handshake or verification failed."""
    low = details.lower()
    return any(marker in low for marker in _TLS_MARKERS)


def classify(method: str, code: str, details: str) -> AteApiError:
    """Build the typed error for a gRPC status (code name + server message)."""
    low = details.lower()
    if "no free workers" in low:
        return NoFreeWorkers(method, code, details, hint=NO_FREE_WORKERS_HINT)
    if code == "FAILED_PRECONDITION":
        if "is not suspended" in low:
            return NotSuspended(method, code, details)
        if low.startswith("actortemplate ") and low.endswith(" not found"):
            return TemplateNotFound(
                method, code, details, hint="create the ActorTemplate or wait until ate-api sees it"
            )
    if code == "UNAVAILABLE" and is_tls_failure(details):
        return TlsError(
            method,
            code,
            details,
            hint="the server certificate was not accepted: set the CA file (ca_file / "
            "--ate-api-ca-file) to the CA that signed ate-api's certificate",
        )
    return _BY_CODE.get(code, UnknownError)(method, code, details)


def is_no_free_workers(err: BaseException) -> bool:
    """Spec §7.3 classifier: the typed error, or any error text containing ``no free workers``."""
    return isinstance(err, NoFreeWorkers) or "no free workers" in str(err).lower()
