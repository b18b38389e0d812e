"""Webhook speed: one aiohttp load client against (a) `kagent-substrate webhook` judging a
typical AgentHarness and (b) a bare aiohttp TLS server answering a fixed "allowed"
AdmissionReview; same run, same client, same concurrency. Each server is its own process.

Prints both saturation throughputs, their ratio, and p50/p99 latency at a paced 200 req/s.
Goals (issue 6): ratio >= 0.5; webhook p99 <= 10 ms at 200 req/s.
Run: .venv/bin/python benchmarks/bench_webhook.py [--seconds 5] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_engine import TYPICAL  # noqa: E402
from shared.certs import make_ca, make_serving_cert  # noqa: E402


def review_body() -> bytes:
    """An apiserver-shaped AdmissionReview for a typical AgentHarness."""
    obj = yaml.safe_load(TYPICAL.format(i=1))
    return json.dumps(
        {
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": "7f0e6a4c-bench",
                "kind": {"group": "kagent.dev", "version": "v1alpha2", "kind": "AgentHarness"},
                "resource": {
                    "group": "kagent.dev",
                    "version": "v1alpha2",
                    "resource": "agentharnesses",
                },
                "name": obj["metadata"]["name"],
                "namespace": obj["metadata"]["namespace"],
                "operation": "CREATE",
                "userInfo": {"username": "kubernetes-admin", "groups": ["system:masters"]},
                "object": obj,
                "oldObject": None,
                "dryRun": False,
            },
        }
    ).encode()


# --- the bare server (a subprocess: `bench_webhook.py --bare CERT KEY`) --------------------


def run_bare(cert: str, key: str) -> None:
    """A bare aiohttp TLS server answering one fixed allowed AdmissionReview."""
    answer = json.dumps(
        {
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "response": {"uid": "7f0e6a4c-bench", "allowed": True},
        }
    ).encode()

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=answer, content_type="application/json")

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/validate", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(cert, key)
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ctx)
        await site.start()
        host, port = runner.addresses[0][:2]
        print(f"READY https://{host}:{port}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


# --- the client ----------------------------------------------------------------------------


async def start(cmd: list[str]) -> tuple[asyncio.subprocess.Process, str]:
    """Start a server process and wait for its READY line (30 s deadline)."""
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    assert proc.stdout is not None
    async with asyncio.timeout(30):
        while True:
            line = (await proc.stdout.readline()).decode()
            if not line:
                raise RuntimeError(f"{cmd[0]} exited before READY")
            if line.startswith("READY "):
                return proc, line.split()[1]


async def saturate(
    session: aiohttp.ClientSession, url: str, ctx: ssl.SSLContext, body: bytes, args: Any
) -> float:
    """Requests per second with ``concurrency`` callers for ``seconds``."""
    headers = {"Content-Type": "application/json"}
    done = 0
    deadline = time.perf_counter() + args.seconds

    async def caller() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            async with session.post(url, data=body, headers=headers, ssl=ctx) as resp:
                doc = await resp.json()
                assert resp.status == 200 and doc["response"]["allowed"], doc
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(args.concurrency)))
    return done / (time.perf_counter() - started)


async def paced(
    session: aiohttp.ClientSession, url: str, ctx: ssl.SSLContext, body: bytes, args: Any
) -> tuple[float, float]:
    """p50/p99 latency (ms) of an open-loop ``rate`` req/s stream for ``seconds``."""
    headers = {"Content-Type": "application/json"}
    latencies: list[float] = []

    async def one() -> None:
        t0 = time.perf_counter()
        async with session.post(url, data=body, headers=headers, ssl=ctx) as resp:
            await resp.read()
            assert resp.status == 200
        latencies.append((time.perf_counter() - t0) * 1000)

    tasks = []
    start_at = time.perf_counter()
    for i in range(int(args.rate * args.seconds)):
        delay = start_at + i / args.rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one()))
    await asyncio.gather(*tasks)
    q = statistics.quantiles(latencies, n=100)
    return q[49], q[98]


async def bench(args: Any) -> None:
    body = review_body()
    with tempfile.TemporaryDirectory() as tmp:
        ca = make_ca("bench-ca")
        cert, key = Path(tmp) / "tls.crt", Path(tmp) / "tls.key"
        make_serving_cert(ca, ["127.0.0.1"]).write(cert, key)
        ctx = ssl.create_default_context(cadata=ca.cert_pem.decode())
        exe = str(Path(sys.executable).parent / "kagent-substrate")
        webhook_cmd = [
            exe, "webhook", "--port=0", "--metrics-port=0", "--bind-address=127.0.0.1",
            f"--tls-cert-file={cert}", f"--tls-private-key-file={key}", "--log-level=WARNING",
            f"--workers={args.webhook_workers}",
        ]  # fmt: skip
        bare_cmd = [sys.executable, __file__, "--bare", str(cert), str(key)]
        results: dict[str, tuple[float, float, float]] = {}
        for name, cmd in (("webhook", webhook_cmd), ("bare", bare_cmd)):
            proc, url = await start(cmd)
            try:
                connector = aiohttp.TCPConnector(limit=args.concurrency)
                async with aiohttp.ClientSession(connector=connector) as session:
                    target = url + "/validate"
                    await saturate(session, target, ctx, body, argparse.Namespace(seconds=0.5, concurrency=args.concurrency))  # warm-up  # fmt: skip
                    rps = await saturate(session, target, ctx, body, args)
                    p50, p99 = await paced(session, target, ctx, body, args)
                results[name] = (rps, p50, p99)
            finally:
                proc.terminate()
                await proc.wait()
    (w_rps, w50, w99), (b_rps, b50, b99) = results["webhook"], results["bare"]
    print(f"body: typical AgentHarness AdmissionReview, {len(body)} bytes; cpus: {os.cpu_count()}")
    print(f"concurrency {args.concurrency}, {args.seconds:g} s per phase, TLS on 127.0.0.1")
    print(f"webhook processes (--workers): {args.webhook_workers}; bare server: 1 process")
    print(
        f"(a) webhook /validate : {w_rps:8.0f} req/s  at {args.rate:g} req/s: p50 {w50:.2f} ms  p99 {w99:.2f} ms"
    )
    print(
        f"(b) bare aiohttp TLS  : {b_rps:8.0f} req/s  at {args.rate:g} req/s: p50 {b50:.2f} ms  p99 {b99:.2f} ms"
    )
    ratio = w_rps / b_rps
    print(
        f"ratio webhook/bare    : {ratio:.2f}  (goal >= 0.5: {'met' if ratio >= 0.5 else 'NOT met'})"
    )
    print(
        f"webhook p99 at {args.rate:g} req/s: {w99:.2f} ms  (goal <= 10 ms: {'met' if w99 <= 10 else 'NOT met'})"
    )


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--bare":
        run_bare(sys.argv[2], sys.argv[3])
        return
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--seconds", type=float, default=5.0, help="length of each phase")
    p.add_argument("--concurrency", type=int, default=32, help="callers in the saturation phase")
    p.add_argument("--rate", type=float, default=200.0, help="paced requests per second")
    p.add_argument(
        "--webhook-workers",
        type=int,
        default=2,
        help="webhook --workers (processes sharing the port)",
    )
    asyncio.run(bench(p.parse_args()))


if __name__ == "__main__":
    main()
