"""Half-open and idle connections are closed; a connection cap keeps serving valid reviews.

Issue 15 item 1: TLS connections that sent part of a request line stayed open for ever and each
held ~0.28 MiB. Every case here attacks the running webhook over real TLS sockets.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from shared.certs import KeyPair
from shared.policy.engine import PolicyEngine
from tests.halfopen import HalfOpen, address, closed_within
from tests.integration.webhook.conftest import (
    admission_review,
    base_config,
    client_context,
    start_webhook,
    wait_for,
)
from tests.integration.webhook.test_hardening import harness
from webhook.server import WebhookServer

HEADER_TIMEOUT = 0.5


@pytest.fixture
async def server(tmp_path: Path, ca: KeyPair, engine: PolicyEngine) -> AsyncIterator[WebhookServer]:
    cfg = base_config(tmp_path, ca, header_timeout=HEADER_TIMEOUT, idle_timeout=1.0)
    srv = await start_webhook(cfg, engine)
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
async def clients() -> AsyncIterator[HalfOpen]:
    half = HalfOpen()
    yield half
    half.close()


async def test_partial_request_line_is_closed_after_the_header_timeout(
    server: WebhookServer, ca: KeyPair, clients: HalfOpen
) -> None:
    reader = await clients.open(server.url, b"POST /vali", client_context(ca))
    waited = await closed_within(reader, 10 * HEADER_TIMEOUT)
    assert waited >= HEADER_TIMEOUT * 0.5


async def test_a_client_that_never_finishes_tls_is_closed(
    server: WebhookServer, clients: HalfOpen
) -> None:
    reader = await clients.open(server.url, b"\x16\x03\x01")  # a ClientHello's first bytes
    await closed_within(reader, 10 * HEADER_TIMEOUT)


async def test_partial_headers_on_health_port_are_closed(
    server: WebhookServer, clients: HalfOpen
) -> None:
    reader = await clients.open(server.metrics_url, b"GET /healthz HTTP/1.1\r\nHost: x")
    await closed_within(reader, 10 * HEADER_TIMEOUT)


async def test_idle_keepalive_connection_is_closed(server: WebhookServer, ca: KeyPair) -> None:
    host, port = address(server.url)
    reader, writer = await asyncio.open_connection(host, port, ssl=client_context(ca))
    try:
        writer.write(b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 ")
        await closed_within(reader, 10.0)
    finally:
        writer.close()


async def test_cap_evicts_half_open_connections_and_serves_valid_reviews(
    tmp_path: Path, ca: KeyPair, engine: PolicyEngine, clients: HalfOpen
) -> None:
    cfg = base_config(tmp_path, ca, header_timeout=30.0, max_connections=8)
    srv = await start_webhook(cfg, engine)
    try:
        ctx = client_context(ca)
        attackers = [await clients.open(srv.url, b"POST /va", ctx) for _ in range(20)]
        assert srv.site is not None and srv.site.listener is not None
        listener = srv.site.listener
        await wait_for(lambda: listener.evicted >= 12, what="evictions")
        assert listener.open_connections <= 8
        for reader in attackers[:12]:  # the oldest, long before the 30 s header timeout
            await closed_within(reader, 5.0)
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                srv.url + "/validate",
                json=admission_review(harness()),
                ssl=ctx,
                timeout=aiohttp.ClientTimeout(total=5),
            ) as resp,
        ):
            assert resp.status == 200
            body = await resp.json()
        assert body["response"]["allowed"] is True
    finally:
        await srv.stop()
