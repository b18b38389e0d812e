"""Pure gateway rewriting: the harness path table, headers, queries, Location, contextId."""

from __future__ import annotations

import pytest

from controller.gateway import rewrite
from controller.gateway.rewrite import (
    Mapped,
    a2a_request_headers,
    context_id,
    harness_request_headers,
    is_websocket,
    map_harness_path,
    prefix_location,
    query_token,
    response_headers,
    strip_token_query,
    valid_object_path,
)
from shared.secrets import Secret

B = "/api/agentharnesses/kagent/my-claw"


@pytest.mark.parametrize(
    ("path", "ws", "want"),
    [
        (B, False, Mapped(redirect=f"{B}/gateway/")),
        (B, True, Mapped(redirect=f"{B}/gateway/")),
        (f"{B}/gateway", False, Mapped(redirect=f"{B}/gateway/")),
        (f"{B}/gateway", True, Mapped(upstream=f"{B}/gateway/")),
        (f"{B}/gateway/", False, Mapped(upstream=f"{B}/gateway/")),
        (f"{B}/gateway/assets/x.js", True, Mapped(upstream=f"{B}/gateway/assets/x.js")),
        (f"{B}/", False, Mapped()),
        (f"{B}/api/v1/foo", False, Mapped()),
        (f"{B}/gatewayx", False, Mapped()),
    ],
)
def test_path_table(path: str, ws: bool, want: Mapped) -> None:
    assert map_harness_path("kagent", "my-claw", path, ws) == want


def test_websocket_detection() -> None:
    assert is_websocket([("Upgrade", "WebSocket"), ("Connection", "keep-alive, Upgrade")])
    assert not is_websocket([("Upgrade", "websocket"), ("Connection", "keep-alive")])
    assert not is_websocket([("Connection", "upgrade")])


def test_harness_headers() -> None:
    out = harness_request_headers(
        [
            ("Authorization", "Bearer caller-kube-token"),
            ("Origin", "http://localhost:8001"),
            ("Referer", "http://localhost:8001/x"),
            ("Connection", "keep-alive, X-Custom-Hop"),
            ("X-Custom-Hop", "1"),
            ("Keep-Alive", "timeout=5"),
            ("Cookie", "a=b"),
            ("Host", "kagent.example"),
            ("Content-Length", "3"),
            ("x-openclaw-scopes", "forged"),
            ("Accept", "text/html"),
        ],
        Secret("some-token"),
    )
    assert out == [
        ("Origin", "http://127.0.0.1:80"),
        ("Referer", "http://127.0.0.1:80/"),
        ("Cookie", "a=b"),
        ("Accept", "text/html"),
        ("Authorization", "Bearer some-token"),
        ("x-openclaw-scopes", "operator.admin"),
    ]
    assert ("Authorization", "Bearer caller-kube-token") not in harness_request_headers(
        [("Authorization", "Bearer caller-kube-token")], None
    )


def test_a2a_headers_drop_credentials() -> None:
    out = a2a_request_headers(
        [
            ("Authorization", "Bearer t"),
            ("Cookie", "c"),
            ("Content-Type", "application/json"),
            ("Accept", "text/event-stream"),
            ("Transfer-Encoding", "chunked"),
        ]
    )
    assert out == [("Content-Type", "application/json"), ("Accept", "text/event-stream")]


def test_response_headers_and_location() -> None:
    prefix = f"{B}/gateway"
    out = response_headers(
        [
            ("Location", "/login"),
            ("Transfer-Encoding", "chunked"),
            ("Content-Length", "9"),
            ("Set-Cookie", "s=1"),
        ],
        prefix,
    )
    assert out == [("Location", f"{prefix}/login"), ("Set-Cookie", "s=1")]
    assert prefix_location(f"{prefix}/x", prefix) == f"{prefix}/x"
    assert prefix_location("https://elsewhere/x", prefix) == "https://elsewhere/x"
    assert prefix_location("//evil/x", prefix) == "//evil/x"


def test_token_query() -> None:
    assert strip_token_query("a=1&token=secret&b=%20x&token") == "a=1&b=%20x"
    assert strip_token_query("") == ""
    assert strip_token_query("tok%65n=s&x=1") == "x=1"  # encoded name is still the token
    found = query_token("x=1&token=%20abc%20")
    assert found is not None and found.reveal() == "abc"
    assert query_token("token=") is None


def test_context_id() -> None:
    assert context_id({"params": {"message": {"contextId": "sess-1"}}}) == "sess-1"
    assert context_id({"params": {"message": {"contextId": None}, "contextId": " c2 "}}) == "c2"
    assert context_id({"params": {"message": {"contextId": "m"}, "contextId": "p"}}) == "m"
    assert context_id({"params": {"message": {"contextId": "  "}}}) is None
    assert context_id({"params": {"ContextId": "x"}}) is None  # exact key match
    assert context_id([]) is None


def test_valid_object_path() -> None:
    assert valid_object_path("team-a", "agent.v1")
    assert not valid_object_path("Team", "a")
    assert not valid_object_path("a", "..")
    assert not valid_object_path("", "a")


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("/", "/"),
        ("/a/b/", "/a/b/"),
        ("/a/%7Eb%20c", "/a/~b%20c"),
        ("/a/%C3%A9", "/a/%C3%A9"),
        ("/a/../b", None),
        ("/a/%2e%2E/b", None),
        ("/a/..%2fb", None),
        ("/a/%2F", None),
        ("/a/%3F", None),
        ("/a/%23", None),
        ("/a/%5C", None),
        ("/a/%25", None),
        ("/a//b", None),
        ("/a/%00", None),
        ("/a/%ff", None),
        ("a/b", None),
    ],
)
def test_normalize_path(raw: str, want: str | None) -> None:
    assert rewrite.normalize_path(raw) == want
