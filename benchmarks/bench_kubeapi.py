"""Benchmark the Kubernetes API stand-in: create+get throughput and watch fan-out latency.

Starts the server in-process on 127.0.0.1, creates N ConfigMaps over HTTPS with C concurrent
keep-alive connections, reads them back, and measures how long each create takes to reach
W open watches. Prints the figures; the goal is >= 1,000 writes/s.

    .venv/bin/python benchmarks/bench_kubeapi.py [--objects 10000] [--concurrency 32] [--watchers 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import statistics
import threading
import time

import aiohttp

from devstack.kubeapi.config import KubeApiConfig
from devstack.kubeapi.server import KubeApiServer


async def _run(objects: int, concurrency: int, watchers: int) -> None:
    # The server gets its own thread and event loop, as a separate process would.
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = KubeApiServer(KubeApiConfig(history_size=2 * objects + 10))
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(30)
    try:
        await _drive(server, objects, concurrency, watchers)
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(30)
        server.close()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


async def _drive(server: KubeApiServer, objects: int, concurrency: int, watchers: int) -> None:
    if True:
        ctx = ssl.create_default_context(cadata=server.ca.cert_pem.decode())
        headers = {
            "Authorization": f"Bearer {server.token.reveal()}",
            "Content-Type": "application/json",
        }
        base = f"{server.url}/api/v1/namespaces/default/configmaps"
        connector = aiohttp.TCPConnector(ssl=ctx, limit=concurrency + watchers + 2)
        async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
            sent: dict[str, float] = {}
            latencies: list[float] = []
            received = [0]
            done = asyncio.Event()
            ready = 0

            async def watch() -> None:
                nonlocal ready
                async with session.get(
                    base, params={"watch": "true", "resourceVersion": "1", "timeoutSeconds": "600"}
                ) as resp:
                    ready += 1
                    async for line in resp.content:
                        name = json.loads(line)["object"]["metadata"]["name"]
                        latencies.append(time.perf_counter() - sent[name])
                        received[0] += 1
                        if received[0] >= objects * watchers:
                            done.set()

            watch_tasks = [asyncio.create_task(watch()) for _ in range(watchers)]
            while ready < watchers:
                await asyncio.sleep(0.01)
            queue: asyncio.Queue[int] = asyncio.Queue()
            for i in range(objects):
                queue.put_nowait(i)

            async def create_worker() -> None:
                while not queue.empty():
                    i = queue.get_nowait()
                    name = f"bench-{i:06d}"
                    sent[name] = time.perf_counter()
                    body = {
                        "metadata": {"name": name, "labels": {"bench": "1"}},
                        "data": {"i": str(i)},
                    }
                    async with session.post(base, json=body) as resp:
                        assert resp.status == 201, await resp.text()
                        await resp.read()

            start = time.perf_counter()
            await asyncio.gather(*(create_worker() for _ in range(concurrency)))
            create_s = time.perf_counter() - start
            if watchers:
                await asyncio.wait_for(done.wait(), 120)
            for t in watch_tasks:
                t.cancel()
            await asyncio.gather(*watch_tasks, return_exceptions=True)

            names = [f"bench-{i:06d}" for i in range(objects)]

            async def get_worker(chunk: list[str]) -> None:
                for name in chunk:
                    async with session.get(f"{base}/{name}") as resp:
                        assert resp.status == 200
                        await resp.read()

            start = time.perf_counter()
            await asyncio.gather(*(get_worker(names[k::concurrency]) for k in range(concurrency)))
            get_s = time.perf_counter() - start
            start = time.perf_counter()
            async with session.get(base, params={"limit": "500"}) as resp:
                await resp.read()
            list_ms = (time.perf_counter() - start) * 1000

            # Paced fan-out: one create at a time, each awaited by every watcher.
            paced: list[float] = []
            paced_n = min(objects, 1000)
            arrived: dict[str, int] = {}
            all_in = asyncio.Event()

            async def paced_watch(rv: str) -> None:
                async with session.get(
                    base, params={"watch": "true", "resourceVersion": rv, "timeoutSeconds": "600"}
                ) as resp:
                    async for line in resp.content:
                        name = json.loads(line)["object"]["metadata"]["name"]
                        arrived[name] = arrived.get(name, 0) + 1
                        if arrived[name] == watchers:
                            paced.append(time.perf_counter() - sent[name])
                            all_in.set()

            async with session.get(base, params={"limit": "1"}) as resp:
                rv = (await resp.json())["metadata"]["resourceVersion"]
            tasks = [asyncio.create_task(paced_watch(rv)) for _ in range(watchers)]
            for i in range(paced_n if watchers else 0):
                name = f"paced-{i:06d}"
                all_in.clear()
                sent[name] = time.perf_counter()
                async with session.post(base, json={"metadata": {"name": name}}) as resp:
                    await resp.read()
                await asyncio.wait_for(all_in.wait(), 10)
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    print(f"objects={objects} concurrency={concurrency} watchers={watchers}")
    print(f"create: {objects / create_s:,.0f} writes/s ({create_s:.2f}s)")
    print(f"get:    {objects / get_s:,.0f} reads/s ({get_s:.2f}s)")
    print(f"list limit=500 of {objects}: {list_ms:.1f} ms")
    if latencies:
        lat = sorted(latencies)
        p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000  # noqa: E731
        print(
            f"watch fan-out under full create load ({watchers} watchers, {len(lat)} events): "
            f"p50={p(0.5):.1f} ms p99={p(0.99):.1f} ms max={lat[-1] * 1000:.1f} ms mean={statistics.mean(lat) * 1000:.1f} ms"
        )
    if paced:
        lat = sorted(paced)
        print(
            f"watch fan-out paced ({len(lat)} creates, time until all {watchers} watchers saw it): "
            f"p50={lat[len(lat) // 2] * 1000:.2f} ms p99={lat[int(0.99 * len(lat))] * 1000:.2f} ms"
        )
    print(f"goal >= 1,000 writes/s: {'met' if objects / create_s >= 1000 else 'NOT met'}")


def main() -> None:
    """Parse flags and run."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--objects", type=int, default=10_000)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--watchers", type=int, default=10)
    args = p.parse_args()
    asyncio.run(_run(args.objects, args.concurrency, args.watchers))


if __name__ == "__main__":
    main()
