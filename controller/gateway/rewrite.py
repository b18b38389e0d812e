"""Pure request/response rewriting of the gateway: path tables, headers, queries, session ids.

AgentHarness path table (spec/agentharness.md §9), ``base = /api/agentharnesses/<ns>/<name>``:

| path | WebSocket | upstream | redirect (308) |
|---|---|---|---|
| ``base`` | any | — | ``base/gateway/`` |
| ``base/gateway`` | no / yes | ``base/gateway/`` | ``base/gateway/`` / none |
| ``base/gateway/…`` | any | the full path unchanged | — |
| anything else | any | 404 | — |
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote, unquote, unquote_plus

from shared.secrets import Secret

HARNESS_ROOT: Final = "/api/agentharnesses"
SANDBOX_ROOT: Final = "/api/a2a-sandboxes"
UPSTREAM_ORIGIN: Final = "http://127.0.0.1:80"
SCOPES_HEADER: Final = "x-openclaw-scopes"
SCOPES: Final = "operator.admin"
HOP_BY_HOP: Final = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
# Set by aiohttp itself on the upstream request (or meaningless once the body is re-sent).
_CLIENT_MANAGED: Final = frozenset(
    {
        "host",
        "content-length",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
        "sec-websocket-protocol",
        "sec-websocket-accept",
    }
)
_NAMESPACE: Final = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_NAME: Final = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

Headers = list[tuple[str, str]]
_SEGMENT_SAFE: Final = "!$&'()*+,;=:@-._~"
"""RFC 3986 ``pchar`` apart from unreserved letters and digits: left as they are."""
_UNSAFE_IN_SEGMENT: Final = frozenset("/\\?#%")
PATH_REFUSED: Final = (
    "the request path cannot be normalized safely: dot segments, empty segments and "
    "encoded '/', '\\', '?', '#' or '%' are refused"
)


def normalize_path(raw: str) -> str | None:
    """The one canonical, percent-encoded form of a request's encoded path, or None.

    The gateway authorizes and forwards exactly this path (issue 15 item 5): each segment is
    decoded once and encoded again, so ``%2e%2e``, ``..%2f`` or ``%3F`` cannot turn into a dot
    segment, a separator, a query or a fragment upstream. None (refuse) when a segment is a
    dot segment, decodes to something holding ``/``, ``\\``, ``?``, ``#``, ``%`` or a control
    character, is not UTF-8, or is empty (``//``; a trailing ``/`` is kept).
    """
    if not raw.startswith("/"):
        return None
    parts = raw.split("/")[1:]
    out: list[str] = []
    for i, segment in enumerate(parts):
        if not segment:
            if i == len(parts) - 1:
                out.append("")
                continue
            return None
        try:
            text = unquote(segment, errors="strict")
        except UnicodeDecodeError:
            return None
        if text in (".", "..") or any(
            c in _UNSAFE_IN_SEGMENT or ord(c) < 0x20 or ord(c) == 0x7F for c in text
        ):
            return None
        out.append(quote(text, safe=_SEGMENT_SAFE))
    return "/" + "/".join(out)


def valid_object_path(namespace: str, name: str) -> bool:
    """A namespace (DNS label) and an object name (DNS subdomain) we may look up."""
    return (
        len(namespace) <= 63
        and bool(_NAMESPACE.match(namespace))
        and len(name) <= 253
        and bool(_NAME.match(name))
    )


@dataclass(frozen=True, slots=True)
class Mapped:
    """Where a harness gateway path goes: ``upstream`` path, a ``redirect``, or neither (404)."""

    upstream: str = ""
    redirect: str = ""


def map_harness_path(namespace: str, name: str, path: str, websocket: bool) -> Mapped:
    """The path table above."""
    base = f"{HARNESS_ROOT}/{namespace}/{name}"
    gateway = f"{base}/gateway"
    if path in (base, f"{base}/"):
        return Mapped(redirect=f"{gateway}/") if path == base else Mapped()
    if path == gateway:
        return Mapped(upstream=f"{gateway}/") if websocket else Mapped(redirect=f"{gateway}/")
    if path.startswith(f"{gateway}/"):
        return Mapped(upstream=path)
    return Mapped()


def is_websocket(headers: Iterable[tuple[str, str]]) -> bool:
    """``Upgrade: websocket`` and ``Connection`` containing ``upgrade`` (case-insensitive)."""
    upgrade = connection = ""
    for k, v in headers:
        if k.lower() == "upgrade":
            upgrade = v
        elif k.lower() == "connection":
            connection += "," + v
    return upgrade.strip().lower() == "websocket" and any(
        p.strip().lower() == "upgrade" for p in connection.split(",")
    )


def _hop_by_hop(headers: Iterable[tuple[str, str]]) -> set[str]:
    named = {
        p.strip().lower() for k, v in headers if k.lower() == "connection" for p in v.split(",")
    }
    return {*HOP_BY_HOP, *named} - {""}


def harness_request_headers(headers: Iterable[tuple[str, str]], token: Secret | None) -> Headers:
    """Outbound headers to the harness: gateway token, scopes, loopback Origin/Referer.

    Hop-by-hop headers go; the caller's Authorization is replaced (or dropped when the harness
    has no token); Host is set by the caller of this function; cookies and the rest pass.
    """
    pairs = list(headers)
    drop = _hop_by_hop(pairs) | _CLIENT_MANAGED | {"authorization", SCOPES_HEADER}
    out: Headers = []
    for k, v in pairs:
        low = k.lower()
        if low in drop:
            continue
        if low == "origin":
            v = UPSTREAM_ORIGIN
        elif low == "referer":
            v = f"{UPSTREAM_ORIGIN}/"
        out.append((k, v))
    if token:
        out.append(("Authorization", f"Bearer {token.reveal()}"))
    out.append((SCOPES_HEADER, SCOPES))
    return out


def a2a_request_headers(headers: Iterable[tuple[str, str]]) -> Headers:
    """Outbound headers to a session actor: the caller's credentials never reach the actor."""
    pairs = list(headers)
    drop = _hop_by_hop(pairs) | _CLIENT_MANAGED | {"authorization", "cookie", "origin", "referer"}
    return [(k, v) for k, v in pairs if k.lower() not in drop]


def response_headers(headers: Iterable[tuple[str, str]], location_prefix: str = "") -> Headers:
    """Upstream response headers minus hop-by-hop; a relative Location gets ``location_prefix``."""
    pairs = list(headers)
    drop = _hop_by_hop(pairs) | {"content-length"}
    out: Headers = []
    for k, v in pairs:
        if k.lower() in drop:
            continue
        if k.lower() == "location" and location_prefix:
            v = prefix_location(v, location_prefix)
        out.append((k, v))
    return out


def prefix_location(location: str, prefix: str) -> str:
    """``/x`` -> ``<prefix>/x`` unless it already starts with ``prefix`` (absolute URLs kept)."""
    if not location.startswith("/") or location.startswith("//"):
        return location
    if location.startswith(prefix):
        return location
    return prefix + location


def strip_token_query(query: str) -> str:
    """The raw query without any ``token`` parameter (the caller's credential), order kept."""
    if not query:
        return ""
    kept = [p for p in query.split("&") if p and unquote_plus(p.partition("=")[0]) != "token"]
    return "&".join(kept)


def query_token(query: str) -> Secret | None:
    """The ``token`` query parameter (browser WebSocket auth), or None."""
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if unquote_plus(key) == "token" and unquote_plus(value).strip():
            return Secret(unquote_plus(value).strip())
    return None


def context_id(body: Any) -> str | None:
    """The session id of an A2A JSON-RPC request (spec §6.2), trimmed; None when absent.

    ``params.message.contextId`` when present and not null, else ``params.contextId``. Keys
    match exactly (Go matches them case-insensitively).
    """
    if not isinstance(body, dict):
        return None
    params = body.get("params")
    if not isinstance(params, dict):
        return None
    message = params.get("message")
    value = message.get("contextId") if isinstance(message, dict) else None
    if value is None:
        value = params.get("contextId")
    if not isinstance(value, str):
        return None
    return value.strip() or None
