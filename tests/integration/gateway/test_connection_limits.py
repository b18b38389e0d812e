"""The controller's listeners (gateway, health, metrics) close half-open and idle connections
and cap how many are open (issue 15 item 1), over real sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from prometheus_client import CollectorRegistry

from controller.runtime.health import HttpServer, make_app
from shared.serving.limits import ListenerLimits
from tests.halfopen import HalfOpen, closed_within
from tests.integration.gateway.conftest import LIMITS, GatewayStack
from tests.integration.webhook.conftest import wait_for


@pytest.fixture
async def clients() -> AsyncIterator[HalfOpen]:
    half = HalfOpen()
    yield half
    half.close()


async def test_gateway_closes_half_open_connections_and_caps_them(
    gws: GatewayStack, clients: HalfOpen
) -> None:
    reader = await clients.open(gws.url, b"GET /api/agentharnesses/a/b/gate")
    waited = await closed_within(reader, 10 * LIMITS.header_timeout)
    assert waited >= LIMITS.header_timeout * 0.5
    listener = gws.server.site.listener if gws.server.site else None
    assert listener is not None
    extra = 6
    readers = [
        await clients.open(gws.url, b"GET /ap") for _ in range(LIMITS.max_connections + extra)
    ]
    await wait_for(lambda: listener.evicted >= extra, what="evictions")
    for r in readers[:extra]:  # the oldest go first
        await closed_within(r, 5.0)
    async with gws.client.get(gws.url + "/nowhere", timeout=aiohttp.ClientTimeout(total=5)) as resp:
        assert resp.status == 404


async def test_health_and_metrics_close_half_open_and_idle_connections(
    clients: HalfOpen,
) -> None:
    limits = ListenerLimits(header_timeout=0.5, idle_timeout=1.0, max_connections=4)
    app = make_app(ready=lambda: (True, ""), registry=CollectorRegistry())
    server = HttpServer(app, limits=limits)
    await server.start()
    try:
        reader = await clients.open(server.url, b"GET /metr")
        await closed_within(reader, 5.0)
        idle = await clients.open(server.url, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (await idle.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
        await closed_within(idle, 5.0)  # the idle timeout
    finally:
        await server.stop()
