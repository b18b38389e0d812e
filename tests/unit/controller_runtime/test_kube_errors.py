"""`shared/kube/errors.py`: status and exception mapping, body truncation."""

from __future__ import annotations

import json

import aiohttp
import pytest
from kubernetes_asyncio.client.exceptions import ApiException

from shared.kube import errors
from shared.kube.backoff import Backoff


def status_body(code: int, reason: str, message: str, **details: object) -> str:
    return json.dumps(
        {"kind": "Status", "code": code, "reason": reason, "message": message, "details": details}
    )


@pytest.mark.parametrize(
    ("code", "reason", "cls"),
    [
        (400, "BadRequest", errors.BadRequest),
        (401, "Unauthorized", errors.Unauthorized),
        (403, "Forbidden", errors.Forbidden),
        (404, "NotFound", errors.NotFound),
        (409, "AlreadyExists", errors.AlreadyExists),
        (409, "Conflict", errors.Conflict),
        (410, "Expired", errors.Gone),
        (422, "Invalid", errors.Invalid),
        (429, "TooManyRequests", errors.TooManyRequests),
        (500, "InternalError", errors.ServerError),
        (502, "", errors.ServerError),
        (503, "ServiceUnavailable", errors.Unavailable),
        (504, "Timeout", errors.Timeout),
        (405, "MethodNotAllowed", errors.KubeError),
    ],
)
def test_status_codes_map_to_classes(code: int, reason: str, cls: type[errors.KubeError]) -> None:
    err = errors.from_status(code, status_body(code, reason, "the message"))
    assert type(err) is cls
    assert err.status == code and err.message == "the message" and err.reason == reason


def test_invalid_keeps_the_status_message_and_details() -> None:
    err = errors.from_status(
        422, status_body(422, "Invalid", 'Widget "x" is invalid: spec.size: ...', name="x")
    )
    assert err.message.startswith('Widget "x" is invalid') and err.details["name"] == "x"


def test_retry_after_from_header_or_details() -> None:
    a = errors.from_status(429, status_body(429, "TooManyRequests", "slow"), {"Retry-After": "3"})
    b = errors.from_status(429, status_body(429, "TooManyRequests", "slow", retryAfterSeconds=2))
    c = errors.from_status(429, "")
    assert isinstance(a, errors.TooManyRequests) and a.retry_after == 3.0
    assert isinstance(b, errors.TooManyRequests) and b.retry_after == 2.0
    assert isinstance(c, errors.TooManyRequests) and c.retry_after is None


def test_non_json_bodies_are_truncated() -> None:
    err = errors.from_status(502, "<html>" + "x" * 5000)
    assert len(err.message) <= errors.BODY_LIMIT + 3 and err.message.endswith("...")
    assert errors.from_status(500, b"").message == "HTTP 500"


def test_library_exceptions_are_mapped() -> None:
    api = ApiException(status=404, reason="Not Found")
    api.body = status_body(404, "NotFound", "gone")
    assert isinstance(errors.from_exception(api), errors.NotFound)
    assert isinstance(errors.from_exception(TimeoutError()), errors.Timeout)
    assert isinstance(errors.from_exception(aiohttp.ServerDisconnectedError()), errors.Unavailable)
    assert isinstance(errors.from_exception(ConnectionRefusedError()), errors.Unavailable)
    assert type(errors.from_exception(RuntimeError("boom"))) is errors.KubeError
    timeout = errors.from_exception(TimeoutError())
    assert isinstance(timeout, TimeoutError) and timeout.retryable


def test_backoff_grows_caps_and_jitters() -> None:
    b = Backoff(initial=0.1, cap=1.0, factor=2.0, jitter=0.2)
    mid = [b.delay(n, rand=lambda: 0.5) for n in range(6)]
    assert mid == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])
    assert b.delay(10, rand=lambda: 1.0) == pytest.approx(1.2)
    assert b.delay(10, rand=lambda: 0.0) == pytest.approx(0.8)
    assert b.delay(10_000) <= 1.2
