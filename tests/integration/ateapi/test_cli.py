"""`kagent-substrate devstack substrate` as a real process: READY line, CA file, flags."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp

from shared.ateapi import AteApiClient, AteApiConfig

SUFFIX = ".actors.resources.substrate.ate.dev"


async def _ready_line(proc: asyncio.subprocess.Process, timeout: float = 20.0) -> dict[str, str]:
    assert proc.stdout is not None
    async with asyncio.timeout(timeout):
        while True:
            line = (await proc.stdout.readline()).decode()
            if not line:
                raise AssertionError("process exited before READY")
            if line.startswith("READY "):
                return dict(part.split("=", 1) for part in line.split()[1:])


async def test_cli_serves_and_prints_ready(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys; from kagent_substrate.cli import main; sys.exit(main(sys.argv[1:]))",
        "devstack",
        "substrate",
        "--ca-out",
        str(ca),
        "--workers",
        "1",
        "--template",
        "ns/tmpl",
        "--fault",
        "ListActors:unavailable=1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "GRPC_VERBOSITY": "ERROR"},
    )
    try:
        ready = await _ready_line(proc)
        assert set(ready) == {"grpc", "router", "debug"}
        config = AteApiConfig(endpoint=ready["grpc"], ca_file=ca, dial_timeout=5, call_timeout=5)
        async with await AteApiClient.connect(config) as client:
            await client.create_actor("a1", "ns", "tmpl")
            assert [a.actor_id for a in await client.list_all_actors()] == ["a1"]  # retried once
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            async with http.get(f"{ready['router']}/health", headers={"Host": "a1" + SUFFIX}) as r:
                assert r.status == 200
            async with http.get(ready["debug"], params={"format": "json"}) as r:
                state = await r.json()
        assert state["actors"][0]["status"] == "STATUS_RUNNING"
    finally:
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):
            assert await proc.wait() == 0


async def test_cli_bad_flag_is_a_clear_error() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys; from kagent_substrate.cli import main; sys.exit(main(sys.argv[1:]))",
        "devstack",
        "substrate",
        "--fault",
        "GetActor:speed=1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(20):
        _out, err = await proc.communicate()
    assert proc.returncode == 2
    assert b"fault knob 'speed' is unknown" in err and b"Traceback" not in err
