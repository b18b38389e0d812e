"""Webhook speed: one aiohttp load client against (a) `kagent-substrate webhook` judging a
typical AgentHarness and (b) a bare aiohttp TLS server answering a fixed "allowed"
AdmissionReview; same run, same client, same concurrency. Each server is its own process.

Prints both saturation throughputs, their ratio, and p50/p99 latency at a paced 200 req/s.
Goals (issue 6): ratio >= 0.5; webhook p99 <= 10 ms at 200 req/s.

The saturation client is `wrk` (C, from Debian: `make bench-tools`) when it is installed, else
the aiohttp client (`--client` chooses). wrk leaves more CPU to the servers on a small machine;
the aiohttp client, itself Python, is often the bottleneck for the bare server. Both check every
answer (HTTP 200 and ``allowed: true``). The paced phase always uses the aiohttp client.
Run: .venv/bin/python benchmarks/bench_webhook.py [--seconds 5] [--concurrency 32] [--client wrk]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
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


WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = %s
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body)
  if status ~= 200 or not string.find(body, '"allowed":%%s*true') then bad = bad + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("bad") end
  io.write(string.format("BAD %%d\\n", total))
end
"""


async def saturate_wrk(url: str, body: bytes, args: Any, tmp: Path) -> float:
    """Requests per second from ``wrk`` (one thread, ``concurrency`` connections)."""
    script = tmp / "post.lua"
    script.write_text(WRK_SCRIPT % json.dumps(body.decode()))
    cmd = ["wrk", "-t1", f"-c{args.concurrency}", f"-d{args.seconds:g}s", "-s", str(script), url]
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE)
    async with asyncio.timeout(args.seconds + 30):
        out = (await proc.communicate())[0].decode()
    rps, bad = re.search(r"Requests/sec:\s+([0-9.]+)", out), re.search(r"BAD (\d+)", out)
    if proc.returncode != 0 or rps is None or bad is None:
        raise RuntimeError(f"wrk failed: {out[-500:]}")
    if int(bad.group(1)) or "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw failed requests: {out[-500:]}")
    return float(rps.group(1))


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
                    warm = argparse.Namespace(seconds=1.0, concurrency=args.concurrency)
                    if args.client == "wrk":
                        await saturate_wrk(target, body, warm, Path(tmp))
                        rps = await saturate_wrk(target, body, args, Path(tmp))
                    else:
                        await saturate(session, target, ctx, body, warm)
                        rps = await saturate(session, target, ctx, body, args)
                    p50, p99 = await paced(session, target, ctx, body, args)
                results[name] = (rps, p50, p99)
            finally:
                proc.terminate()
                await proc.wait()
    (w_rps, w50, w99), (b_rps, b50, b99) = results["webhook"], results["bare"]
    print(f"body: typical AgentHarness AdmissionReview, {len(body)} bytes; cpus: {os.cpu_count()}")
    print(f"concurrency {args.concurrency}, {args.seconds:g} s per phase, TLS on 127.0.0.1")
    print(f"saturation client: {args.client}; paced client: aiohttp")
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
    p.add_argument(
        "--client",
        choices=["auto", "wrk", "aiohttp"],
        default="auto",
        help="saturation load client (auto: wrk when installed, else aiohttp)",
    )
    args = p.parse_args()
    if args.client == "auto":
        args.client = "wrk" if shutil.which("wrk") else "aiohttp"
    elif args.client == "wrk" and not shutil.which("wrk"):
        p.error(
            "wrk is not installed: run `make bench-tools` (Debian's wrk) or use --client aiohttp"
        )
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
