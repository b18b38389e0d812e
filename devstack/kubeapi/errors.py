"""Kubernetes-shaped API errors: every failure a client sees is a ``Status`` object."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answered as a ``metav1.Status`` with an HTTP code."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self) -> dict[str, Any]:
        """The ``Status`` body."""
        return failure_status(self.code, self.reason, self.message, self.details)


def failure_status(
    code: int, reason: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A ``Status`` with ``status: Failure``."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details is not None:
        body["details"] = details
    return body


def success_status(details: dict[str, Any]) -> dict[str, Any]:
    """A ``Status`` with ``status: Success`` (answer to a completed delete)."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    }


def qualified(resource: str, group: str) -> str:
    """``configmaps`` or ``leases.coordination.k8s.io`` as the apiserver names a resource."""
    return f"{resource}.{group}" if group else resource


def not_found(resource: str, group: str, name: str) -> ApiError:
    """404 ``<resource> "<name>" not found``."""
    return ApiError(
        404,
        "NotFound",
        f'{qualified(resource, group)} "{name}" not found',
        details={"name": name, "group": group, "kind": resource},
    )


def already_exists(resource: str, group: str, name: str) -> ApiError:
    """409 ``<resource> "<name>" already exists``."""
    return ApiError(
        409,
        "AlreadyExists",
        f'{qualified(resource, group)} "{name}" already exists',
        details={"name": name, "group": group, "kind": resource},
    )


def conflict(resource: str, group: str, name: str, why: str | None = None) -> ApiError:
    """409 Conflict on a stale resourceVersion (or another precondition)."""
    why = why or (
        "the object has been modified; please apply your changes to the latest version "
        "and try again"
    )
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {qualified(resource, group)} "{name}": {why}',
        details={"name": name, "group": group, "kind": resource},
    )


def gone(message: str) -> ApiError:
    """410 Expired (too old resourceVersion or continue token)."""
    return ApiError(410, "Expired", message)


def bad_request(message: str) -> ApiError:
    """400 BadRequest."""
    return ApiError(400, "BadRequest", message)


def invalid(
    kind: str, group: str, name: str, causes: list[dict[str, str]], message: str
) -> ApiError:
    """422 Invalid with field causes, worded by the caller (the policy engine's text)."""
    return ApiError(
        422,
        "Invalid",
        message,
        details={"name": name, "group": group, "kind": kind, "causes": causes},
    )


def unsupported_media(accepted: list[str]) -> ApiError:
    """415 UnsupportedMediaType naming the accepted patch types."""
    return ApiError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        + ", ".join(accepted),
    )


def method_not_allowed(
    message: str = "the server does not allow this method on the requested resource",
) -> ApiError:
    """405 MethodNotAllowed."""
    return ApiError(405, "MethodNotAllowed", message)


def forbidden(message: str, details: dict[str, Any] | None = None) -> ApiError:
    """403 Forbidden."""
    return ApiError(403, "Forbidden", message, details=details)


def unauthorized() -> ApiError:
    """401 Unauthorized."""
    return ApiError(401, "Unauthorized", "Unauthorized")


def internal(message: str) -> ApiError:
    """500 InternalError."""
    return ApiError(
        500,
        "InternalError",
        f"Internal error occurred: {message}",
        details={"causes": [{"message": message}]},
    )
