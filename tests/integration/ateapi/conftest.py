"""A simulator on 127.0.0.1 (real TLS, port 0) and clients configured to verify it."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devstack.substrate.server import Endpoints, Simulator, SimulatorConfig
from shared.ateapi import AteApiClient, AteApiConfig, RetryPolicy

FAST_RETRY = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.05)


@dataclass
class Harness:
    sim: Simulator
    ends: Endpoints
    ca_file: Path
    server_token: Path
    client_token: Path
    clients: list[AteApiClient]

    def config(self, **overrides: Any) -> AteApiConfig:
        base = AteApiConfig(
            endpoint=self.ends.grpc,
            ca_file=self.ca_file,
            token_file=self.client_token,
            dial_timeout=5.0,
            call_timeout=5.0,
            retry=FAST_RETRY,
        )
        return dataclasses.replace(base, **overrides)

    def client(self, **overrides: Any) -> AteApiClient:
        client = AteApiClient(self.config(**overrides))
        self.clients.append(client)
        return client

    def calls(self, method: str) -> int:
        assert self.sim.service is not None
        return self.sim.service.calls[method]


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    server_token = tmp_path / "server-token"
    server_token.write_text("tok-1")
    client_token = tmp_path / "client-token"
    client_token.write_text(" tok-1\n")
    sim = Simulator(
        SimulatorConfig(
            workers=2,
            templates=(("ns", "tmpl"),),
            token_file=server_token,
            serve_router=False,
            serve_debug=False,
        )
    )
    ends = await sim.start()
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(ends.ca_pem)
    h = Harness(sim, ends, ca_file, server_token, client_token, [])
    try:
        yield h
    finally:
        for client in h.clients:
            await client.close()
        await sim.stop()


async def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``predicate`` until true, failing after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.005)
