"""A2A JSON-RPC proxy to SandboxAgent session actors (spec/sandboxagent_helm.md §6, SPEC §8).

``POST /api/a2a-sandboxes/<ns>/<name>[/<path>]``: the session id is the request's
``contextId``; its actor (created from this agent's template, never another's) is ensured
RUNNING and reachable, then the request is forwarded through the atenet-router and the
response streamed back chunk by chunk (SSE included). In-flight requests are reference-counted
per session; the actor is suspended only after the last one ends plus the idle delay.

``GET .../.well-known/agent-card.json`` answers the agent card with its URL pointing here.
``DELETE .../sessions/<sid>`` deletes that session's actor (suspend -> delete -> gone); the
agent in the path scopes it, so it can never reach another agent's actor.

Errors after authentication are JSON-RPC errors (HTTP 200, as A2A clients expect) with a
``data.reason``; nothing of the request body or headers is ever logged.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any, Final
from urllib.parse import unquote

import aiohttp
from aiohttp import web
from yarl import URL

from controller.gateway.access import GATEWAY, ROUTE_KEY, Gateway, check_access, error
from controller.gateway.rewrite import (
    PATH_REFUSED,
    SANDBOX_ROOT,
    a2a_request_headers,
    context_id,
    normalize_path,
    valid_object_path,
)
from controller.gateway.rewrite import response_headers as filter_response_headers
from controller.sandboxagent.config import CARD_KEY
from controller.sandboxagent.identity import is_substrate, template_key
from controller.sandboxagent.sessions import SessionError
from shared.conditions import find_condition
from shared.kube import errors as kerr
from shared.kube.resources import SANDBOX_AGENT, SECRET
from shared.naming import gateway_router_target, sandbox_session_actor_id

log = logging.getLogger(__name__)

RESOURCE: Final = "sandboxagents"
CARD_PATHS: Final = ("/.well-known/agent-card.json", "/.well-known/agent.json")
INVALID_PARAMS, INTERNAL, PARSE_ERROR = -32602, -32603, -32700
MISSING_CONTEXT: Final = "message contextId (session id) is required for substrate sandbox agents"


def rpc_error(rpc_id: Any, code: int, message: str, reason: str) -> web.Response:
    """A JSON-RPC 2.0 error response."""
    body = {
        "jsonrpc": "2.0",
        "id": rpc_id,
        "error": {"code": code, "message": message, "data": {"reason": reason}},
    }
    return web.json_response(body)


def _route(request: web.Request) -> tuple[str, str, str | None]:
    """Namespace, name and the rest of the normalized path (None: refuse the path)."""
    namespace, name = request.match_info["namespace"], request.match_info["name"]
    path = normalize_path(request.rel_url.raw_path)
    prefix = f"{SANDBOX_ROOT}/{namespace}/{name}"
    if path is None or not (path == prefix or path.startswith(prefix + "/")):
        return namespace, name, None
    return namespace, name, path[len(prefix) :]


async def _load_agent(
    gw: Gateway, namespace: str, name: str
) -> tuple[dict[str, Any] | None, web.Response | None]:
    try:
        agent = await gw.kube.get(SANDBOX_AGENT, name, namespace)
    except kerr.NotFound:
        return None, error(404, "SandboxAgent not found")
    except kerr.KubeError:
        return None, error(500, "failed to load SandboxAgent")
    if not is_substrate(agent):
        return None, error(400, "the session gateway is only available for platform=substrate")
    if agent["metadata"].get("deletionTimestamp"):
        return None, error(409, "SandboxAgent is being deleted; no new sessions")
    return agent, None


async def handle(request: web.Request) -> web.StreamResponse:
    """Every method under ``/api/a2a-sandboxes/<ns>/<name>``."""
    gw = request.app[GATEWAY]
    namespace, name, tail = _route(request)
    request[ROUTE_KEY] = "a2a"
    if not valid_object_path(namespace, name):
        return error(400, "namespace and name are required (DNS names)")
    if tail is None:
        return error(400, PATH_REFUSED)
    is_delete = request.method == "DELETE" and tail.startswith("/sessions/")
    if request.method == "GET" and tail in CARD_PATHS:
        request[ROUTE_KEY] = "a2a_card"
    elif is_delete:
        request[ROUTE_KEY] = "session_delete"
    elif request.method != "POST":
        return error(405, "use POST for A2A JSON-RPC, GET for the agent card, DELETE for a session")
    refused = await check_access(request, gw, RESOURCE, namespace, name)
    if refused is not None:
        return refused
    agent, problem = await _load_agent(gw, namespace, name)
    if problem is not None or agent is None:
        return problem or error(500, "failed to load SandboxAgent")
    if request[ROUTE_KEY] == "a2a_card":
        return await _card(request, gw, agent)
    if gw.sessions is None or gw.tracker is None:
        return error(
            503, "substrate is not configured on this controller (--substrate-ate-api-endpoint)"
        )
    if is_delete:
        return await _delete_session(gw, agent, unquote(tail[len("/sessions/") :]))
    return await _message(request, gw, agent, tail or "/")


async def _card(request: web.Request, gw: Gateway, agent: dict[str, Any]) -> web.Response:
    meta = agent["metadata"]
    try:
        secret = await gw.kube.get(SECRET, meta["name"], meta["namespace"])
        card = json.loads(base64.b64decode((secret.get("data") or {})[CARD_KEY]))
    except (kerr.KubeError, KeyError, ValueError):
        return error(503, "agent card not available yet (the SandboxAgent is not reconciled)")
    url = f"{request.scheme}://{request.host}{SANDBOX_ROOT}/{meta['namespace']}/{meta['name']}/"
    card["url"] = url
    card["additionalInterfaces"] = [{"transport": "JSONRPC", "url": url}]
    return web.json_response(card)


async def _delete_session(gw: Gateway, agent: dict[str, Any], raw_sid: str) -> web.Response:
    assert gw.sessions is not None and gw.tracker is not None
    meta = agent["metadata"]
    sid = raw_sid.strip()
    if not sid or "/" in sid:
        return error(400, "session id is required: DELETE .../sessions/<contextId>")
    actor_id = sandbox_session_actor_id(meta["namespace"], meta["name"], sid)
    try:
        gone = await gw.sessions.delete(actor_id, template_key(agent))
    except SessionError as exc:
        return error(502, str(exc))
    except Exception as exc:  # ate-api errors: typed, without secrets
        return error(503, f"substrate: {exc}")
    gw.tracker.forget(actor_id, template_key(agent))
    if not gone:
        return error(504, "session actor still being deleted; retry the DELETE")
    return web.json_response({"deleted": True, "session": sid})


async def _message(
    request: web.Request, gw: Gateway, agent: dict[str, Any], path: str
) -> web.StreamResponse:
    assert gw.sessions is not None and gw.tracker is not None
    meta = agent["metadata"]
    if request.content_length is not None and request.content_length > gw.settings.max_body:
        return error(413, f"request body larger than {gw.settings.max_body} bytes")
    try:
        raw = await request.content.read(gw.settings.max_body + 1)
    except (aiohttp.ClientError, OSError):
        return error(400, "could not read the request body")
    if len(raw) > gw.settings.max_body:
        return error(413, f"request body larger than {gw.settings.max_body} bytes")
    try:
        body = json.loads(raw)
    except ValueError:
        return rpc_error(None, PARSE_ERROR, "parse A2A request body: invalid JSON", "ParseError")
    rpc_id = body.get("id") if isinstance(body, dict) else None
    sid = context_id(body)
    if sid is None:
        return rpc_error(rpc_id, INVALID_PARAMS, MISSING_CONTEXT, "MissingContextId")
    ready = find_condition((agent.get("status") or {}).get("conditions"), "Ready")
    if not ready or ready.get("status") != "True":
        why = f"{ready.get('reason')}: {ready.get('message')}" if ready else "not reconciled yet"
        return rpc_error(
            rpc_id,
            INTERNAL,
            f"SandboxAgent {meta['namespace']}/{meta['name']} is not Ready ({why})",
            "NotReady",
        )
    template = template_key(agent)
    actor_id = sandbox_session_actor_id(meta["namespace"], meta["name"], sid)
    tracker, sessions = gw.tracker, gw.sessions
    await tracker.acquire(actor_id, template)
    try:
        try:
            with gw.metrics.ensure.time():
                await tracker.ensure_once(
                    actor_id, template, lambda: sessions.ensure(actor_id, template)
                )
        except SessionError as exc:
            gw.metrics.ensure_failed(exc.reason)
            return rpc_error(
                rpc_id,
                INTERNAL if exc.reason != "conflict" else INVALID_PARAMS,
                str(exc),
                _reason(exc.reason),
            )
        return await _forward(request, gw, actor_id, template, path, raw)
    finally:
        tracker.release(actor_id, template)


def _reason(reason: str) -> str:
    return {
        "no_free_workers": "NoFreeWorkers",
        "timeout": "SessionNotReachable",
        "unavailable": "SubstrateUnavailable",
        "conflict": "SessionIdConflict",
    }.get(reason, "SessionError")


async def _forward(
    request: web.Request,
    gw: Gateway,
    actor_id: str,
    template: tuple[str, str],
    path: str,
    raw: bytes,
) -> web.StreamResponse:
    assert gw.http is not None and gw.tracker is not None
    base, host = gateway_router_target(gw.settings.router_url, actor_id)
    query = request.rel_url.raw_query_string
    # encoded=True: the normalized path goes upstream exactly as authorized
    url = URL(base.rstrip("/") + path + (f"?{query}" if query else ""), encoded=True)
    headers = [*a2a_request_headers(request.headers.items()), ("Host", host)]
    response: web.StreamResponse | None = None
    try:
        async with gw.http.request(
            "POST", url, data=raw, headers=headers, allow_redirects=False
        ) as up:
            if up.status >= 500:
                gw.tracker.invalidate(actor_id, template)  # ensure again on the next request
            response = web.StreamResponse(
                status=up.status, headers=filter_response_headers(up.headers.items())
            )
            await response.prepare(request)
            async for chunk in up.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response
    except (aiohttp.ClientError, TimeoutError) as exc:
        gw.tracker.invalidate(actor_id, template)
        log.warning("session proxy error: %s", type(exc).__name__, extra={"kind": RESOURCE})
        if response is not None and response.prepared:
            return response  # headers already sent: the stream just ends
        return error(502, "gateway proxy error")
