"""The atenet-router: Host parsing, wake-up, the §6 error table, the fake workload."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from devstack.substrate.errors import SimError
from devstack.substrate.router import error_response, parse_host
from devstack.substrate.server import Simulator, SimulatorConfig
from devstack.substrate.state import RUNNING

SUFFIX = ".actors.resources.substrate.ate.dev"


@pytest.mark.parametrize(
    ("raw", "actor_id"),
    [
        ("a1" + SUFFIX, "a1"),
        ("a1" + SUFFIX + ":8080", "a1"),
        ("a1" + SUFFIX + ".", "a1"),
    ],
)
def test_parse_host_accepts(raw: str, actor_id: str) -> None:
    assert parse_host(raw) == (actor_id, "")


def test_parse_host_rejects() -> None:
    assert parse_host("example.com:80")[1] == (
        'invalid host "example.com:80": invalid actor_id: must end with '
        'actors.resources.substrate.ate.dev, got "example.com"'
    )
    assert parse_host("Bad_Id" + SUFFIX)[1].startswith(
        f'invalid host "Bad_Id{SUFFIX}": invalid actor_id: must start and end'
    )
    assert parse_host("a.b" + SUFFIX)[1].startswith('invalid host "a.b')


@pytest.mark.parametrize(
    ("code", "status", "body"),
    [
        ("NOT_FOUND", 404, 'actor "a" not found'),
        ("FAILED_PRECONDITION", 503, 'actor "a" unavailable: msg'),
        ("UNAVAILABLE", 503, 'actor "a" unavailable'),
        ("DEADLINE_EXCEEDED", 504, 'actor "a" request timed out'),
        ("PERMISSION_DENIED", 403, 'actor "a" access denied'),
        ("UNAUTHENTICATED", 401, 'actor "a" authentication required'),
        ("RESOURCE_EXHAUSTED", 429, 'actor "a" rate limited'),
        ("INTERNAL", 500, 'error resuming actor "a"'),
    ],
)
def test_error_table(code: str, status: int, body: str) -> None:
    response = error_response("a", SimError(code, "msg"))
    assert (response.status, response.text) == (status, body)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    s = Simulator(SimulatorConfig(workers=1, templates=(("ns", "tmpl"),)))
    await s.start()
    try:
        yield s
    finally:
        await s.stop()


async def test_request_wakes_a_suspended_actor(sim: Simulator) -> None:
    sim.control.create("a1", "ns", "tmpl")
    assert sim.endpoints is not None
    url = sim.endpoints.router
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        host = {"Host": "a1" + SUFFIX}
        async with http.post(f"{url}/v1/echo?x=1", data=b"hello", headers=host) as resp:
            assert resp.status == 200
            echo = await resp.json()
        actor = sim.store.actors["a1"]
        assert actor.status == RUNNING
        assert echo["body"] == "hello" and echo["host"] == f"{actor.pod_ip}:80"
        async with http.get(f"{url}/health", headers=host) as resp:
            assert resp.status == 200
        async with http.get(f"{url}/stream?n=3&interval=0", headers=host) as resp:
            assert await resp.text() == "chunk 0\nchunk 1\nchunk 2\n"
        async with http.ws_connect(f"{url}/ws", headers=host) as ws:
            await ws.send_str("ping")
            assert (await ws.receive_str()) == "ping"
        sim.workloads.get("a1").fail_status = 502
        async with http.get(f"{url}/anything", headers=host) as resp:
            assert resp.status == 502
        # unknown actor, no capacity, bad host
        async with http.get(f"{url}/", headers={"Host": "nope" + SUFFIX}) as resp:
            assert (resp.status, await resp.text()) == (404, 'actor "nope" not found')
        sim.control.create("a2", "ns", "tmpl")
        async with http.get(f"{url}/", headers={"Host": "a2" + SUFFIX}) as resp:
            assert resp.status == 503
            assert await resp.text() == 'actor "a2" unavailable: no free workers available'
        async with http.get(f"{url}/", headers={"Host": "example.com"}) as resp:
            assert resp.status == 404


async def test_debug_view_and_runtime_faults(sim: Simulator) -> None:
    assert sim.endpoints is not None
    url = sim.endpoints.debug
    sim.control.create("a1", "ns", "tmpl")
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        async with http.get(url, params={"format": "json"}) as resp:
            state = await resp.json()
        assert [a["actor_id"] for a in state["actors"]] == ["a1"]
        assert len(state["workers"]) == 1
        async with http.get(url) as resp:
            assert "<h2>actors (1)</h2>" in await resp.text()
        async with http.post(
            f"{url}/faults", json={"method": "GetActor", "unavailable": 2}
        ) as resp:
            assert (await resp.json())["GetActor"]["unavailable"] == 2
        async with http.post(f"{url}/faults", json={"method": "Nope"}) as resp:
            assert resp.status == 400 and "unknown" in (await resp.json())["error"]
        async with http.post(
            f"{url}/pools", json={"namespace": "ate-system", "name": "default", "replicas": 3}
        ) as resp:
            assert resp.status == 200
        assert len(sim.store.workers) == 3
        async with http.delete(f"{url}/faults") as resp:
            assert resp.status == 200
        assert sim.control.faults.snapshot() == {}
