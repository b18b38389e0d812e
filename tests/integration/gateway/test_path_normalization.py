"""The gateway authorizes and forwards exactly one normalized path (issue 15 item 5): dot
segments, encoded separators and encoded ``?``/``#`` are refused before anything is forwarded.
Raw HTTP over a real socket, since HTTP clients normalize such paths themselves."""

from __future__ import annotations

import asyncio
import json

from tests.halfopen import address
from tests.integration.gateway.conftest import ALICE, GatewayStack
from tests.integration.gateway.test_harness_proxy import BASE
from tests.integration.gateway.test_harness_proxy import claw as claw  # fixture

ESCAPES = (
    f"{BASE}/gateway/../../x",
    f"{BASE}/gateway/%2e%2e/%2e%2e/x",
    f"{BASE}/gateway/%2E%2E%2F%2E%2E%2Fx",
    f"{BASE}/gateway/..%2f..%2fx",
    f"{BASE}/gateway/.%2e/x",
    f"{BASE}/gateway/./app.js",
    f"{BASE}/gateway/a%3Fb=1",
    f"{BASE}/gateway/a%23frag",
    f"{BASE}/gateway/a%5c..%5cb",
    f"{BASE}/gateway//x",
    f"{BASE}/gateway/%252e%252e/x",
    f"{BASE}/gateway/a%00b",
    "/api/a2a-sandboxes/team-a/agent/../../agentharnesses/team-a/claw/gateway/",
    "/api/a2a-sandboxes/team-a/agent/%2e%2e/x",
    "/api/a2a-sandboxes/team-a/agent/a%3Fx=1",
)


async def raw_get(url: str, path: str) -> tuple[int, bytes]:
    """``GET path`` exactly as written; (status, body)."""
    host, port = address(url)
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(
            f"GET {path} HTTP/1.0\r\nHost: {host}\r\nAuthorization: Bearer {ALICE}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


async def test_escaping_paths_are_refused(claw: GatewayStack) -> None:
    answers = {path: await raw_get(claw.url, path) for path in ESCAPES}
    wrong = {p: (s, b[:200]) for p, (s, b) in answers.items() if s != 400}
    assert wrong == {}
    for _, body in answers.values():
        assert "cannot be normalized" in json.loads(body)["error"]


async def test_encoded_characters_reach_the_actor_once_encoded(claw: GatewayStack) -> None:
    status, body = await raw_get(claw.url, f"{BASE}/gateway/a%20b%2Bc.js?q=%3F")
    assert status == 200, body
    echo = json.loads(body)
    assert echo["raw_path"] == f"{BASE}/gateway/a%20b+c.js"
    assert echo["raw_query"] == "q=%3F"
