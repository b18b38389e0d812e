"""ate-api client round trips against the simulator vs a bare grpc.aio echo server.

Both servers run on loopback TLS in this process with the same certificate; the simulator
path includes everything a real call does (token re-read, metrics, conversion, the relay).
Prints p50/p99 latency of sequential calls, calls/s at a fixed concurrency, and the ratio.

Usage: python benchmarks/bench_ateapi.py [--calls N] [--concurrency C] [--seconds S]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
from prometheus_client import CollectorRegistry

from devstack.substrate.server import Simulator, SimulatorConfig
from shared.ateapi import AteApiClient, AteApiConfig
from shared.certs import make_ca, make_serving_cert

Call = Callable[[], Awaitable[object]]


async def measure(
    call: Call, calls: int, concurrency: int, seconds: float
) -> tuple[float, float, float]:
    """(p50 ms, p99 ms, calls/s)."""
    for _ in range(50):
        await call()
    samples = []
    for _ in range(calls):
        t0 = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - t0)
    samples.sort()
    p50 = statistics.median(samples) * 1000
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1000
    done = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < stop:
            await call()
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return p50, p99, done / (time.perf_counter() - started)


async def bench_simulator(
    calls: int, concurrency: int, seconds: float, tmp: Path
) -> tuple[float, float, float]:
    token = tmp / "token"
    token.write_text("bench-token\n")
    sim = Simulator(
        SimulatorConfig(workers=1, templates=(("ns", "t"),), serve_router=False, serve_debug=False)
    )
    ends = await sim.start()
    ca = tmp / "sim-ca.pem"
    ca.write_bytes(ends.ca_pem)
    config = AteApiConfig(endpoint=ends.grpc, ca_file=ca, token_file=token)
    client = await AteApiClient.connect(config, registry=CollectorRegistry())
    try:
        await client.create_actor("bench", "ns", "t")
        return await measure(lambda: client.get_actor("bench"), calls, concurrency, seconds)
    finally:
        await client.close()
        await sim.stop()


async def bench_echo(
    calls: int, concurrency: int, seconds: float, tmp: Path
) -> tuple[float, float, float]:
    ca = make_ca("bench-ca")
    cert = make_serving_cert(ca, ["127.0.0.1", "localhost"])
    server = grpc.aio.server()

    async def echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return request

    handler = grpc.method_handlers_generic_handler(
        "bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)}
    )
    server.add_generic_rpc_handlers((handler,))
    port = server.add_secure_port(
        "127.0.0.1:0", grpc.ssl_server_credentials([(cert.key_pem, cert.cert_pem)])
    )
    await server.start()
    channel = grpc.aio.secure_channel(
        f"127.0.0.1:{port}", grpc.ssl_channel_credentials(ca.cert_pem)
    )
    stub = channel.unary_unary("/bench.Echo/Echo")
    payload = b"\x0a\x05bench"
    try:
        await asyncio.wait_for(channel.channel_ready(), 10)
        return await measure(lambda: stub(payload, timeout=30), calls, concurrency, seconds)
    finally:
        await channel.close()
        await server.stop(None)


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as raw:
        tmp = Path(raw)
        sim = await bench_simulator(args.calls, args.concurrency, args.seconds, tmp)
        echo = await bench_echo(args.calls, args.concurrency, args.seconds, tmp)
    print(
        f"ate-api GetActor round trip over loopback TLS ({args.calls} sequential calls, "
        f"{args.concurrency} concurrent for {args.seconds:g}s)"
    )
    print(f"{'target':<28}{'p50 ms':>10}{'p99 ms':>10}{'calls/s':>12}")
    print(f"{'simulator + AteApiClient':<28}{sim[0]:>10.3f}{sim[1]:>10.3f}{sim[2]:>12.0f}")
    print(f"{'bare grpc.aio echo':<28}{echo[0]:>10.3f}{echo[1]:>10.3f}{echo[2]:>12.0f}")
    print(
        f"ratio simulator/echo: p50 x{sim[0] / echo[0]:.2f}, p99 x{sim[1] / echo[1]:.2f}, "
        f"throughput x{sim[2] / echo[2]:.2f}"
    )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=3.0)
    sys.exit(asyncio.run(main(parser.parse_args())))
