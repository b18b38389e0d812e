"""Reverse proxy to an AgentHarness's OpenClaw gateway (spec/agentharness.md §9, SPEC §8).

Order of checks (the reference's error table, with our auth in front and every Secret read
after the path is validated): path shape (400) and path table (404); Origin (403);
authentication (401) and authorization (403); harness not found (404) / load error (500);
runtime not substrate (400); no actor yet (503); redirect (308, query kept); gateway token
(500 ``gateway token not configured``); router target (503); proxy (502 ``gateway proxy
error``). HTTP and WebSocket; the caller's ``token`` query parameter never goes upstream.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from typing import Any, Final

import aiohttp
from aiohttp import WSMsgType, web
from yarl import URL

from controller.gateway.access import GATEWAY, ROUTE_KEY, Gateway, check_access, error
from controller.gateway.rewrite import (
    HARNESS_ROOT,
    PATH_REFUSED,
    harness_request_headers,
    is_websocket,
    map_harness_path,
    normalize_path,
    response_headers,
    strip_token_query,
    valid_object_path,
)
from controller.harness.credentials import GATEWAY_KEY, owned_secret_name
from shared.kube import errors as kerr
from shared.kube.resources import AGENT_HARNESS, SECRET
from shared.naming import NamingError, gateway_router_target
from shared.secrets import Secret

log = logging.getLogger(__name__)

RESOURCE: Final = "agentharnesses"


class TokenError(Exception):
    """The harness's gateway token cannot be read."""


async def gateway_token(gw: Gateway, harness: dict[str, Any]) -> Secret | None:
    """The token from ``gatewayTokenSecretRef`` or the owned credentials Secret; None if unset."""
    meta = harness["metadata"]
    sub = (harness.get("spec") or {}).get("substrate") or {}
    name = str((sub.get("gatewayTokenSecretRef") or {}).get("name") or "").strip()
    if not name:
        if not str(sub.get("gatewayToken") or "").strip():
            return None
        name = owned_secret_name(meta["namespace"], meta["name"])
    try:
        secret = await gw.kube.get(SECRET, name, meta["namespace"])
        raw = (secret.get("data") or {})[GATEWAY_KEY]
        value = base64.b64decode(raw).decode("utf-8").strip()
    except (kerr.KubeError, KeyError, ValueError, UnicodeDecodeError):
        raise TokenError("gateway token not configured") from None
    if not value:
        raise TokenError("gateway token not configured")
    return Secret(value)


async def handle(request: web.Request) -> web.StreamResponse:
    """Any method under ``/api/agentharnesses/<ns>/<name>``."""
    gw = request.app[GATEWAY]
    namespace, name = request.match_info["namespace"], request.match_info["name"]
    websocket = is_websocket(request.headers.items())
    request[ROUTE_KEY] = "harness_ws" if websocket else "harness"
    if not namespace.strip() or not name.strip() or not valid_object_path(namespace, name):
        return error(400, "namespace and name are required")
    path = normalize_path(request.rel_url.raw_path)
    if path is None:
        return error(400, PATH_REFUSED)
    mapped = map_harness_path(namespace, name, path, websocket)
    if not mapped.upstream and not mapped.redirect:
        return error(404, "404 page not found")
    refused = await check_access(request, gw, RESOURCE, namespace, name)
    if refused is not None:
        return refused
    try:
        harness = await gw.kube.get(AGENT_HARNESS, name, namespace)
    except kerr.NotFound:
        return error(404, "AgentHarness not found")
    except kerr.KubeError:
        return error(500, "failed to load AgentHarness")
    spec = harness.get("spec") or {}
    if spec.get("runtime") != "substrate":
        return error(400, "gateway proxy is only available for runtime=substrate")
    actor_id = str(((harness.get("status") or {}).get("backendRef") or {}).get("id") or "")
    if not actor_id.strip():
        return error(503, "harness has no substrate actor yet; wait until it is Ready")
    if mapped.redirect:
        query = f"?{request.query_string}" if request.query_string else ""
        raise web.HTTPPermanentRedirect(mapped.redirect + query)
    try:
        token = await gateway_token(gw, harness)
    except TokenError as exc:
        return error(500, str(exc))
    try:
        base, host = gateway_router_target(gw.settings.router_url, actor_id)
    except NamingError as exc:
        return error(503, f'substrate actor "{actor_id}": {exc}')
    query = strip_token_query(request.rel_url.raw_query_string)
    # encoded=True: the client must send the normalized path as it is, not resolve it again
    url = URL(base.rstrip("/") + mapped.upstream + (f"?{query}" if query else ""), encoded=True)
    headers = [*harness_request_headers(request.headers.items(), token), ("Host", host)]
    if websocket:
        return await _websocket(request, gw, url, headers)
    prefix = f"{HARNESS_ROOT}/{namespace}/{name}/gateway"
    return await _http(request, gw, url, headers, prefix)


async def _http(
    request: web.Request, gw: Gateway, url: URL, headers: list[tuple[str, str]], prefix: str
) -> web.StreamResponse:
    assert gw.http is not None
    response: web.StreamResponse | None = None
    data = request.content if request.body_exists else None
    try:
        async with gw.http.request(
            request.method, url, data=data, headers=headers, allow_redirects=False
        ) as up:
            response = web.StreamResponse(
                status=up.status, headers=response_headers(up.headers.items(), prefix)
            )
            await response.prepare(request)
            async for chunk in up.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("gateway proxy error: %s", type(exc).__name__, extra={"kind": RESOURCE})
        if response is not None and response.prepared:
            return response
        return error(502, "gateway proxy error")


async def _websocket(
    request: web.Request, gw: Gateway, url: URL, headers: list[tuple[str, str]]
) -> web.StreamResponse:
    assert gw.http is not None
    protocols = tuple(
        p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()
    )
    try:
        upstream = await gw.http.ws_connect(
            url,
            headers=headers,
            protocols=protocols,
            max_msg_size=0,
            timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=10.0),
        )
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("gateway websocket error: %s", type(exc).__name__, extra={"kind": RESOURCE})
        return error(502, "gateway proxy error")
    chosen = (upstream.protocol,) if upstream.protocol else ()
    downstream = web.WebSocketResponse(protocols=chosen, max_msg_size=0)
    try:
        await downstream.prepare(request)
        pumps = [
            asyncio.create_task(_pump(downstream, upstream)),
            asyncio.create_task(_pump(upstream, downstream)),
        ]
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in pumps:
                task.cancel()
            for task in pumps:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
    finally:
        code = upstream.close_code or downstream.close_code or 1000
        with contextlib.suppress(Exception):
            await upstream.close()
        with contextlib.suppress(Exception):
            await downstream.close(code=code)
    return downstream


async def _pump(
    source: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
    sink: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
) -> None:
    async for msg in source:
        if msg.type == WSMsgType.TEXT:
            await sink.send_str(msg.data)
        elif msg.type == WSMsgType.BINARY:
            await sink.send_bytes(msg.data)
        elif msg.type == WSMsgType.ERROR:
            break
