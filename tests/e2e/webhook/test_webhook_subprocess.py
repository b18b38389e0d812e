"""End to end: `kagent-substrate webhook` as a real process over real sockets: READY line,
verdicts over HTTPS, health/metrics, configuration from env vars, SIGTERM drain, clean logs."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import ssl
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from shared.certs import make_ca, make_serving_cert
from tests.integration.webhook.conftest import admission_review
from tests.integration.webhook.test_hardening import CANARY, harness

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.e2e


@dataclass
class Proc:
    proc: asyncio.subprocess.Process
    url: str
    metrics: str
    log: Path


async def start(args: list[str], log: Path, env: dict[str, str] | None = None) -> Proc:
    """Start the webhook and wait (with a deadline) for its READY line."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_")}
    full_env.update(env or {})
    proc = await asyncio.create_subprocess_exec(
        str(BIN / "kagent-substrate"),
        "webhook",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=log.open("ab"),
        env=full_env,
    )
    assert proc.stdout is not None
    try:
        async with asyncio.timeout(30):
            while True:
                line = (await proc.stdout.readline()).decode()
                if line.startswith("READY "):
                    url, metrics = line.split()[1], line.split()[2].removeprefix("metrics=")
                    return Proc(proc, url, metrics, log)
                if not line:
                    break
    except TimeoutError:
        pass
    proc.kill()
    await proc.wait()
    raise AssertionError(f"no READY line; log:\n{log.read_text()}")


@pytest.fixture
async def self_signed(tmp_path: Path) -> AsyncIterator[Proc]:
    p = await start(
        [
            "--port=0",
            "--metrics-port=0",
            "--bind-address=127.0.0.1",
            "--self-signed",
            f"--cert-dir={tmp_path / 'certs'}",
            "--extra-host=127.0.0.1",
            "--log-format=json",
            "--log-level=DEBUG",
        ],
        tmp_path / "webhook.log",
    )
    yield p
    if p.proc.returncode is None:
        p.proc.kill()
        await p.proc.wait()


async def test_serves_verdicts_and_drains_on_sigterm(self_signed: Proc, tmp_path: Path) -> None:
    ctx = ssl.create_default_context(cafile=str(tmp_path / "certs" / "ca.crt"))
    token_obj = harness()
    token_obj["spec"]["substrate"] = {"gatewayToken": CANARY}
    async with aiohttp.ClientSession() as session:

        async def post(path: str, obj: dict[str, object]) -> dict[str, object]:
            async with session.post(
                self_signed.url + path,
                json=admission_review(obj),
                ssl=ctx,
                timeout=aiohttp.ClientTimeout(total=10),
            ) as resp:
                assert resp.status == 200
                return dict((await resp.json())["response"])

        assert (await post("/validate", harness()))["allowed"] is True
        denied = await post("/validate", harness(backend="hermes"))
        assert denied["allowed"] is False and denied["status"]["code"] == 422
        assert "patch" in await post("/mutate", harness())
        warned = await post("/validate", token_obj)
        assert warned["allowed"] is True and warned["warnings"]
        async with session.get(self_signed.metrics + "/readyz") as resp:
            assert resp.status == 200
        async with session.get(self_signed.metrics + "/metrics") as resp:
            metrics = await resp.text()
        assert "kagent_substrate_admission_requests_total" in metrics

        inflight = [asyncio.create_task(post("/validate", harness())) for _ in range(20)]
        self_signed.proc.send_signal(signal.SIGTERM)
        answers = await asyncio.gather(*inflight, return_exceptions=True)
    code = await asyncio.wait_for(self_signed.proc.wait(), 20)
    assert code == 0
    # Requests that reached the server before SIGTERM were answered; none got a 500.
    assert all(isinstance(a, dict | aiohttp.ClientError | OSError) for a in answers), answers
    log = self_signed.log.read_text()
    assert "shutting down" in log
    assert "caBundle" in log and "not patched" in log
    assert '"level": "debug"' in log  # per-request lines were written...
    assert CANARY not in log and CANARY not in metrics  # ...without the token
    assert "Traceback" not in log


async def test_mounted_certificate_from_env_vars(tmp_path: Path) -> None:
    ca = make_ca("e2e-ca")
    make_serving_cert(ca, ["127.0.0.1"]).write(tmp_path / "tls.crt", tmp_path / "tls.key")
    env = {
        "KAGENT_SUBSTRATE_WEBHOOK_TLS_CERT_FILE": str(tmp_path / "tls.crt"),
        "KAGENT_SUBSTRATE_WEBHOOK_TLS_PRIVATE_KEY_FILE": str(tmp_path / "tls.key"),
        "KAGENT_SUBSTRATE_WEBHOOK_PORT": "0",
        "KAGENT_SUBSTRATE_WEBHOOK_METRICS_PORT": "0",
        "KAGENT_SUBSTRATE_WEBHOOK_BIND_ADDRESS": "127.0.0.1",
        "KAGENT_SUBSTRATE_WEBHOOK_DEFAULT_WORKER_POOL": "pool-a",
    }
    p = await start([], tmp_path / "webhook.log", env)
    try:
        ctx = ssl.create_default_context(cadata=ca.cert_pem.decode())
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                p.url + "/mutate",
                json=admission_review(harness()),
                ssl=ctx,
                timeout=aiohttp.ClientTimeout(total=10),
            ) as resp,
        ):
            doc = await resp.json()
        ops = json.loads(base64.b64decode(doc["response"]["patch"]))
        assert {
            "op": "add",
            "path": "/spec/substrate/workerPoolRef",
            "value": {"name": "pool-a"},
        } in ops
    finally:
        p.proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(p.proc.wait(), 20) == 0


async def test_bad_flags_exit_2_without_traceback(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        str(BIN / "kagent-substrate"),
        "webhook",
        "--tls-cert-file",
        str(tmp_path / "missing.crt"),
        "--tls-private-key-file",
        str(tmp_path / "missing.key"),
        "--port=0",
        "--metrics-port=0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert b"missing.crt" in err
    assert b"Traceback" not in err and b"READY" not in out
