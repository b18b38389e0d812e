"""HTTP handlers: a capped body, the pure `review`, a JSON answer; never a 500 or a traceback.

Small reviews (the common case, a few KiB) are decoded and judged on the event loop: that takes
well under a millisecond, less than a thread hop. Bodies above ``inline_body_bytes`` go to a
worker thread so the per-request deadline can answer in time and the loop keeps serving.
Request bodies are never logged: they may hold inline tokens.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Final

import orjson
from aiohttp import web

from webhook.decode import decode
from webhook.deps import DEPS, Deps
from webhook.review import Outcome, ReviewError, errored, review

log = logging.getLogger(__name__)

JSON: Final = "application/json"


def _problem(status: int, message: str) -> web.Response:
    """A plain JSON error (not an AdmissionReview): HTTP 400 or 413."""
    body = json.dumps({"error": message}).encode()
    return web.Response(status=status, body=body, content_type=JSON)


def _answer(doc: dict[str, Any]) -> web.Response:
    try:
        body = orjson.dumps(doc)
    except orjson.JSONEncodeError:  # e.g. a lone surrogate echoed from the request
        body = json.dumps(doc, separators=(",", ":")).encode()
    return web.Response(body=body, content_type=JSON)


def _decode(body: bytes) -> Any:
    """``json.loads``' result (a key given twice keeps its last value), or `ReviewError`."""
    return decode(body).data


def _judge(deps: Deps, body: bytes, mutate: bool, decoded: list[Any]) -> Outcome:
    result = decode(body)
    decoded.append(result.data)  # so an internal error or a deadline can still echo request.uid
    return review(deps.engine, result.data, mutate=mutate, duplicates=result.duplicate_paths)


def _known_small(request: web.Request, limit: int) -> bool:
    length = request.content_length
    return length is not None and length <= limit


async def _handle(request: web.Request, *, mutate: bool) -> web.Response:
    deps = request.app[DEPS]
    cfg = deps.config
    started = time.perf_counter()
    if request.content_type != JSON:
        deps.metrics.bad_request("content-type")
        return _problem(
            400, f"Content-Type must be application/json, got {request.content_type[:64]!r}"
        )
    too_large = f"request body exceeds {cfg.max_body_bytes} bytes"
    if request.content_length is not None and request.content_length > cfg.max_body_bytes:
        deps.metrics.bad_request("too-large")
        return _problem(413, too_large)
    decoded: list[Any] = []
    try:
        if request.content.is_eof() and _known_small(request, cfg.inline_body_bytes):
            # The whole small body is already buffered (the common case: it came with the
            # headers), so nothing below can wait: judge it now, without arming a timer.
            outcome = _judge(deps, await request.read(), mutate, decoded)
        else:
            async with asyncio.timeout(cfg.request_timeout):
                body = await request.read()  # capped: client_max_size is max_body_bytes
                if len(body) <= cfg.inline_body_bytes:
                    outcome = _judge(deps, body, mutate, decoded)
                else:
                    loop = asyncio.get_running_loop()
                    outcome = await loop.run_in_executor(None, _judge, deps, body, mutate, decoded)
    except web.HTTPRequestEntityTooLarge:
        deps.metrics.bad_request("too-large")
        return _problem(413, too_large)
    except ReviewError as exc:
        reason = (
            "malformed-json" if str(exc).startswith("malformed JSON") else "not-admission-review"
        )
        deps.metrics.bad_request(reason)
        return _problem(400, str(exc))
    except TimeoutError:
        deps.metrics.bad_request("deadline")
        log.warning("admission review exceeded its %.1fs deadline", cfg.request_timeout)
        message = f"admission review did not finish within {cfg.request_timeout:g}s"
        return _answer(errored(decoded[0] if decoded else None, 504, message))
    except Exception as exc:  # a bug in evaluation must not become a 500 or leak the object
        deps.metrics.bad_request("internal")
        log.error("internal error evaluating an admission review: %s", type(exc).__name__)
        data = decoded[0] if decoded else None
        return _answer(errored(data, 500, "internal error evaluating the object; see webhook logs"))
    seconds = time.perf_counter() - started
    deps.metrics.observe(outcome.kind, outcome.operation, outcome.allowed, seconds)
    if outcome.rules:
        deps.metrics.denied(outcome.kind, outcome.rules)
    level = logging.DEBUG if outcome.allowed else logging.INFO
    if log.isEnabledFor(level):
        # The object name goes in the message: ``name`` is a reserved LogRecord attribute.
        verb = "mutated" if mutate else ("allowed" if outcome.allowed else "denied")
        log.log(
            level,
            "%s %s/%s",
            verb,
            outcome.namespace,
            outcome.name,
            extra={
                "uid": outcome.uid,
                "kind": outcome.kind,
                "namespace": outcome.namespace,
                "operation": outcome.operation,
                "allowed": outcome.allowed,
                "duration_ms": round(seconds * 1000, 3),
            },
        )
    return _answer(outcome.body)


async def validate(request: web.Request) -> web.Response:
    """``POST /validate``: the verdict, every violation, warnings."""
    return await _handle(request, mutate=False)


async def mutate(request: web.Request) -> web.Response:
    """``POST /mutate``: allowed, with the pinning JSON patch when there is one."""
    return await _handle(request, mutate=True)


async def healthz(request: web.Request) -> web.Response:
    """``GET /healthz``: the process is alive."""
    return web.Response(text="ok")


async def readyz(request: web.Request) -> web.Response:
    """``GET /readyz``: rules compiled, certificate loaded, not draining."""
    problem = request.app[DEPS].state.not_ready()
    if problem:
        return web.Response(status=503, text=problem)
    return web.Response(text="ok")


async def metrics(request: web.Request) -> web.Response:
    """``GET /metrics``: Prometheus text exposition."""
    body = request.app[DEPS].metrics.render()
    return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4"})
