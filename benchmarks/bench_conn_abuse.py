"""Half-open connections against the webhook and the gateway (issue 15 item 1).

An attacker process opens N connections (TLS for the webhook, plain HTTP for the gateway), sends
part of a request and waits. Meanwhile this process sends valid requests at a paced rate over
its own connection and samples the server's RSS from /proc. Printed per server: peak RSS growth
over the baseline, seconds from the attack's start until the server had closed every attack
connection, p50/p99 of the valid requests during the attack, and RSS once they are closed.

Side by side in one run: our listener (``BoundedSite`` with ``--header-timeout``) and the same
application on aiohttp's plain ``TCPSite`` (what both servers used before issue 15); the plain
one is given ``--baseline-wait`` seconds to close the connections, then counted as never.
Goals (issue 15): growth <= 64 MiB, all closed <= 60 s, valid p99 <= 20 ms, RSS after within
24 MiB of the baseline.
Run: .venv/bin/python benchmarks/bench_conn_abuse.py [--connections 1000] [--header-timeout 10]
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
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_webhook import review_body  # noqa: E402
from shared.certs import make_ca, make_serving_cert  # noqa: E402

MIB = 1024 * 1024


# --- servers (subprocesses) ------------------------------------------------------------------


def serve_bare_webhook(cert: str, key: str) -> None:
    """The webhook's app on aiohttp's plain TCPSite (no header timeout, no cap)."""
    from webhook.app import make_app
    from webhook.config import WebhookConfig
    from webhook.deps import Deps, State
    from webhook.metrics import WebhookMetrics
    from webhook.server import build_engine
    from webhook.tls import ReloadingCert

    async def main() -> None:
        cfg = WebhookConfig()
        cert_ = ReloadingCert(Path(cert), Path(key))
        cert_.reload()
        deps = Deps(cfg, build_engine(cfg), WebhookMetrics(), State(cert=cert_))
        runner = web.AppRunner(make_app(deps), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=cert_.context).start()
        host, port = runner.addresses[0][:2]
        print(f"READY https://{host}:{port}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def serve_gateway(mode: str, header_timeout: float) -> None:
    """The controller's gateway app (no cluster: valid requests are cheap 404s)."""
    from controller.gateway.access import Gateway
    from controller.gateway.app import gateway_server, make_app
    from controller.gateway.auth import Authenticator
    from controller.gateway.metrics import GatewayMetrics
    from shared.serving.limits import ListenerLimits

    async def main() -> None:
        kube: Any = None
        gw = Gateway(kube=kube, auth=Authenticator(kube), metrics=GatewayMetrics())
        if mode == "bounded":
            server = gateway_server(gw, ("127.0.0.1", 0), ListenerLimits(header_timeout))
            await server.start()
            url = server.url
        else:
            runner = web.AppRunner(make_app(gw), access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            host, port = runner.addresses[0][:2]
            url = f"http://{host}:{port}"
        print(f"READY {url}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


# --- the attacker (a subprocess, so its CPU does not stall our probe) -------------------------


def attack(url: str, count: int, ca_file: str, seconds: float) -> None:
    """Open ``count`` half-open connections; report when the server has closed them all."""

    async def main() -> None:
        host, port = url.split("//")[1].rsplit(":", 1)
        ctx = ssl.create_default_context(cafile=ca_file) if url.startswith("https") else None
        partial = b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Le"
        gate = asyncio.Semaphore(32)
        started = time.monotonic()
        closed: list[float] = []
        writers: list[asyncio.StreamWriter] = []

        async def one() -> None:
            try:
                async with gate:
                    reader, writer = await asyncio.open_connection(host, int(port), ssl=ctx)
                    writers.append(writer)
                    writer.write(partial)
                    await writer.drain()
                while await reader.read(1024):
                    pass
            except (OSError, ssl.SSLError):
                pass
            closed.append(time.monotonic() - started)

        tasks = [asyncio.create_task(one()) for _ in range(count)]
        _, pending = await asyncio.wait(tasks, timeout=seconds)
        opened = time.monotonic() - started
        result = {
            "closed": len(closed),
            "open": len(pending),
            "all_closed_s": max(closed) if not pending and closed else None,
            "elapsed_s": opened,
        }
        print(json.dumps(result), flush=True)
        for writer in writers:
            writer.close()
        os._exit(0)

    asyncio.run(main())


# --- the driver -------------------------------------------------------------------------------


def rss(pid: int) -> float:
    """Resident set size of ``pid`` in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def start(cmd: list[str]) -> tuple[asyncio.subprocess.Process, str]:
    """Start a server and wait for its READY line (60 s deadline)."""
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    assert proc.stdout is not None
    async with asyncio.timeout(60):
        while True:
            line = (await proc.stdout.readline()).decode()
            if not line:
                raise RuntimeError(f"{cmd} exited before READY")
            if line.startswith("READY "):
                return proc, line.split()[1]


async def probe(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes | None,
    ctx: ssl.SSLContext | None,
    rate: float,
    stop: asyncio.Event,
) -> list[float]:
    """Valid requests at ``rate``/s until ``stop``; their latencies in ms."""
    latencies: list[float] = []
    loop = asyncio.get_running_loop()
    next_at = loop.time()
    while not stop.is_set():
        t = time.perf_counter()
        if body is None:
            async with session.get(url, ssl=ctx) as resp:
                await resp.read()
                assert resp.status == 404, resp.status
        else:
            async with session.post(
                url, data=body, ssl=ctx, headers={"Content-Type": "application/json"}
            ) as resp:
                answer = await resp.json()
                assert answer["response"]["allowed"] is True, answer
        latencies.append((time.perf_counter() - t) * 1000)
        next_at += 1 / rate
        await asyncio.sleep(max(0.0, next_at - loop.time()))
    return latencies


async def run_one(
    name: str,
    cmd: list[str],
    path: str,
    body: bytes | None,
    ctx: ssl.SSLContext | None,
    ca_file: str,
    args: Any,
    wait: float,
) -> dict[str, Any]:
    proc, url = await start(cmd)
    timeout = aiohttp.ClientTimeout(total=30)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            warm = asyncio.Event()
            task = asyncio.create_task(probe(session, url + path, body, ctx, 200, warm))
            await asyncio.sleep(3.0)
            warm.set()
            quiet = await task
            base = rss(proc.pid)
            peak = base
            stop = asyncio.Event()
            prober = asyncio.create_task(probe(session, url + path, body, ctx, args.rate, stop))
            attacker = await asyncio.create_subprocess_exec(
                sys.executable, __file__, "--attack", url, str(args.connections), ca_file,
                str(wait), stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
            assert attacker.stdout is not None
            line_task = asyncio.create_task(attacker.stdout.readline())
            while not line_task.done():
                peak = max(peak, rss(proc.pid))
                await asyncio.wait({line_task}, timeout=0.05)
            report = json.loads(line_task.result())
            await attacker.wait()
            stop.set()
            latencies = await prober
            await asyncio.sleep(2.0)  # let the allocator settle before reading RSS
            after = rss(proc.pid)
    finally:
        proc.terminate()
        await proc.wait()
    q = statistics.quantiles(latencies, n=100)
    return {
        "name": name,
        "base": base,
        "growth": peak - base,
        "closed": report["all_closed_s"],
        "open": report["open"],
        "p50": statistics.median(latencies),
        "p99": q[98],
        "quiet_p99": statistics.quantiles(quiet, n=100)[98],
        "after": after - base,
        "n": len(latencies),
    }


def show(rows: list[dict[str, Any]], wait: float) -> None:
    print(
        f"{'server':34} {'base MiB':>8} {'peak +MiB':>9} {'all closed':>12} "
        f"{'valid p50':>9} {'p99 ms':>7} {'quiet p99':>9} {'after +MiB':>10}"
    )
    for r in rows:
        closed = (
            f"{r['closed']:.1f} s" if r["closed"] is not None else f">{wait:.0f}s ({r['open']})"
        )
        print(
            f"{r['name']:34} {r['base']:8.1f} {r['growth']:9.1f} {closed:>12} "
            f"{r['p50']:9.2f} {r['p99']:7.2f} {r['quiet_p99']:9.2f} {r['after']:10.1f}"
        )


async def bench(args: Any) -> None:
    exe = str(Path(sys.executable).parent / "kagent-substrate")
    body = review_body()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        ca = make_ca("bench-ca")
        cert, key, ca_file = Path(tmp) / "tls.crt", Path(tmp) / "tls.key", Path(tmp) / "ca.crt"
        make_serving_cert(ca, ["127.0.0.1"]).write(cert, key)
        ca_file.write_bytes(ca.cert_pem)
        ctx = ssl.create_default_context(cadata=ca.cert_pem.decode())
        ours_wait = args.header_timeout + 60
        if args.target in ("webhook", "all"):
            webhook = [
                exe, "webhook", "--port=0", "--metrics-port=0", "--bind-address=127.0.0.1",
                f"--tls-cert-file={cert}", f"--tls-private-key-file={key}", "--log-level=WARNING",
                f"--header-timeout={args.header_timeout}",
            ]  # fmt: skip
            bare = [sys.executable, __file__, "--bare-webhook", str(cert), str(key)]
            for name, cmd, wait in (
                ("webhook (BoundedSite)", webhook, ours_wait),
                ("webhook app on plain TCPSite", bare, args.baseline_wait),
            ):
                if name.startswith("webhook app") and args.no_baseline:
                    continue
                rows.append(
                    await run_one(name, cmd, "/validate", body, ctx, str(ca_file), args, wait)
                )
        if args.target in ("gateway", "all"):
            for mode, wait in (("bounded", ours_wait), ("plain", args.baseline_wait)):
                if mode == "plain" and args.no_baseline:
                    continue
                cmd = [sys.executable, __file__, "--gateway", mode, str(args.header_timeout)]
                name = "gateway (BoundedSite)" if mode == "bounded" else "gateway app on TCPSite"
                rows.append(await run_one(name, cmd, "/nowhere", None, None, "", args, wait))
    print(
        f"{args.connections} half-open connections; header timeout {args.header_timeout:g} s; "
        f"valid requests at {args.rate:g}/s during the attack"
    )
    show(rows, args.baseline_wait)
    print("goals: peak <= 64 MiB, all closed <= 60 s, p99 <= 20 ms, after <= 24 MiB")


def main() -> None:
    if sys.argv[1:2] == ["--bare-webhook"]:
        serve_bare_webhook(sys.argv[2], sys.argv[3])
        return
    if sys.argv[1:2] == ["--gateway"]:
        serve_gateway(sys.argv[2], float(sys.argv[3]))
        return
    if sys.argv[1:2] == ["--attack"]:
        attack(sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5]))
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--connections", type=int, default=1000)
    p.add_argument("--header-timeout", type=float, default=10.0)
    p.add_argument("--rate", type=float, default=50.0, help="valid requests per second")
    p.add_argument("--baseline-wait", type=float, default=30.0, help="seconds given to TCPSite")
    p.add_argument("--target", choices=["webhook", "gateway", "all"], default="all")
    p.add_argument("--no-baseline", action="store_true", help="skip the plain TCPSite runs")
    asyncio.run(bench(p.parse_args()))


if __name__ == "__main__":
    main()
