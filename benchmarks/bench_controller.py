"""AgentHarness controller at scale on the local stack (every component a real process).

Starts the devstack (Kubernetes API stand-in, Substrate simulator with fast timings, webhook,
controller), sizes the WorkerPool for N harnesses, creates N harnesses through admission, and
measures: time until all are Ready, Kubernetes API requests per harness by verb (the stand-in's
counters for the controller's own user), writes in a quiet window after convergence, peak RSS
per process (``VmHWM``), then deletes them all and measures the time until every harness, actor
and golden actor is gone. Prints one table.

Goals (issues 7 and 10): 1,000 harnesses Ready <= 60 s; <= 6 writes per harness; 0 writes in
the window after convergence.

    .venv/bin/python benchmarks/bench_controller.py [--count 200] [--window 30] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import ssl
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devstack.stack import CONTROLLER_USER, DEFAULT_POOL, LocalStack  # noqa: E402

WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")
LEASES = "leases"
READY_GOAL_S = 60.0
WRITES_GOAL = 6.0
POOL_IMAGE = "ghcr.io/agent-substrate/ateom@sha256:" + "3f1c9a7e5b2d4c6a" * 4
GATEWAY_SECRET = "bench-gateway"


def log(text: str) -> None:
    """Progress on stderr (the table goes to stdout)."""
    print(text, file=sys.stderr, flush=True)


def harness(name: str, namespace: str) -> dict[str, Any]:
    """The smallest runnable substrate harness (gateway token from a shared Secret)."""
    return {
        "apiVersion": "kagent.dev/v1alpha2",
        "kind": "AgentHarness",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "backend": "openclaw",
            "runtime": "substrate",
            "substrate": {"gatewayTokenSecretRef": {"name": GATEWAY_SECRET}},
        },
    }


def is_ready(obj: dict[str, Any]) -> bool:
    """Ready=True for the current generation."""
    status = obj.get("status") or {}
    if status.get("observedGeneration") != obj["metadata"].get("generation"):
        return False
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )


class Api:
    """A small async client for the stand-in with the admin kubeconfig (the bench's own
    requests are counted under the admin user, never the controller's)."""

    def __init__(self, kubeconfig: Path, concurrency: int) -> None:
        cfg = yaml.safe_load(kubeconfig.read_text())
        cluster = cfg["clusters"][0]["cluster"]
        self.base = cluster["server"]
        ca = base64.b64decode(cluster["certificate-authority-data"]).decode()
        self.ssl = ssl.create_default_context(cadata=ca)
        self.headers = {
            "Authorization": f"Bearer {cfg['users'][0]['user']['token']}",
            "Content-Type": "application/json",
        }
        self.sem = asyncio.Semaphore(concurrency)
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Api:
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=self.ssl, limit=0),
            headers=self.headers,
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.session is not None
        await self.session.close()

    async def call(self, method: str, path: str, body: Any = None, ok: Sequence[int] = ()) -> Any:
        """One request; raises on a status outside 2xx and ``ok``."""
        assert self.session is not None
        async with self.sem:
            for attempt in range(5):
                async with self.session.request(
                    method,
                    self.base + path,
                    data=None if body is None else json.dumps(body),
                    timeout=aiohttp.ClientTimeout(total=60),
                ) as resp:
                    text = await resp.text()
                    if resp.status in (429, 500, 503) and attempt < 4:
                        await asyncio.sleep(0.2 * 2**attempt)
                        continue
                    if resp.status >= 300 and resp.status not in ok:
                        raise RuntimeError(f"{method} {path}: {resp.status} {text[:300]}")
                    return json.loads(text) if text else None
        raise AssertionError("unreachable")

    async def counters(self) -> dict[str, dict[str, int]]:
        """The controller's requests so far: verb -> resource -> count."""
        body = await self.call("GET", "/devstack/requests")
        return dict(body["users"].get(CONTROLLER_USER, {}))


def flatten(counts: dict[str, dict[str, int]]) -> dict[tuple[str, str], int]:
    """verb -> resource -> n  as  (verb, resource) -> n."""
    return {(v, r): n for v, per in counts.items() for r, n in per.items()}


def diff(
    after: dict[tuple[str, str], int], before: dict[tuple[str, str], int]
) -> dict[tuple[str, str], int]:
    """Counts that happened between two snapshots (non-zero only)."""
    out = {k: n - before.get(k, 0) for k, n in after.items()}
    return {k: n for k, n in out.items() if n}


def by_verb(counts: dict[tuple[str, str], int]) -> dict[str, int]:
    """Total per verb."""
    out: dict[str, int] = {}
    for (verb, _), n in counts.items():
        out[verb] = out.get(verb, 0) + n
    return out


def writes(counts: dict[tuple[str, str], int]) -> int:
    """Requests with a write verb, leader-election Lease renewals excluded (they are per
    process, not per object, and inherent to leader election; shown on their own row)."""
    return sum(n for (verb, res), n in counts.items() if verb in WRITE_VERBS and res != LEASES)


def lease_writes(counts: dict[tuple[str, str], int]) -> int:
    """Lease renewals (leader election)."""
    return sum(n for (verb, res), n in counts.items() if verb in WRITE_VERBS and res == LEASES)


def peak_rss_mb(pid: int) -> float:
    """``VmHWM`` of a live process, in MiB (0 when gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def scrape(url: str) -> dict[str, float]:
    """Prometheus text -> ``name{k=v,...}`` -> value (counters and gauges)."""
    with urllib.request.urlopen(url, timeout=10) as resp:
        text = resp.read().decode()
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
            out[f"{s.name}{{{labels}}}"] = s.value
    return out


def metric_sum(metrics: dict[str, float], prefix: str) -> float:
    """Sum of every sample whose key starts with ``prefix``."""
    return sum(v for k, v in metrics.items() if k.startswith(prefix))


def sim_state(debug_url: str) -> dict[str, Any]:
    """The simulator's /debug JSON."""
    with urllib.request.urlopen(debug_url + "?format=json", timeout=30) as resp:
        return dict(json.loads(resp.read()))


@dataclass
class Result:
    """Everything one run measured."""

    count: int
    window: float
    create_s: float = 0.0
    ready_s: float = 0.0
    delete_s: float = 0.0
    converge: dict[tuple[str, str], int] = field(default_factory=dict)
    steady: dict[tuple[str, str], int] = field(default_factory=dict)
    deletion: dict[tuple[str, str], int] = field(default_factory=dict)
    steady_ateapi: float = 0.0
    ateapi_converge: dict[str, float] = field(default_factory=dict)
    ateapi_delete: dict[str, float] = field(default_factory=dict)
    reconciles: float = 0.0
    rss_mb: dict[str, float] = field(default_factory=dict)
    cpu_s: dict[str, float] = field(default_factory=dict)
    actors_created: int = 0
    leftover_actors: int = 0
    leftover_harnesses: int = 0
    workdir: str = ""

    def as_json(self) -> dict[str, Any]:
        """JSON-ready form."""

        def keyed(d: dict[tuple[str, str], int]) -> dict[str, int]:
            return {f"{v} {r}": n for (v, r), n in sorted(d.items())}

        return {
            "count": self.count,
            "window_s": self.window,
            "create_s": round(self.create_s, 2),
            "ready_s": round(self.ready_s, 2),
            "delete_s": round(self.delete_s, 2),
            "converge_requests": keyed(self.converge),
            "steady_requests": keyed(self.steady),
            "delete_requests": keyed(self.deletion),
            "writes_per_harness": round(writes(self.converge) / self.count, 2),
            "delete_writes_per_harness": round(writes(self.deletion) / self.count, 2),
            "steady_writes": writes(self.steady),
            "steady_ateapi_calls": self.steady_ateapi,
            "ateapi_converge": self.ateapi_converge,
            "ateapi_delete": self.ateapi_delete,
            "reconciles": self.reconciles,
            "peak_rss_mb": {k: round(v, 1) for k, v in self.rss_mb.items()},
            "cpu_s": {k: round(v, 1) for k, v in self.cpu_s.items()},
            "leftover_actors": self.leftover_actors,
            "leftover_harnesses": self.leftover_harnesses,
            "workdir": self.workdir,
        }


def ateapi_calls(metrics: dict[str, float]) -> dict[str, float]:
    """ate-api requests by method from the controller's metrics."""
    out: dict[str, float] = {}
    for key, value in metrics.items():
        if key.startswith("kagent_substrate_ateapi_requests_total{"):
            method = key.split("method=", 1)[1].split(",", 1)[0].rstrip("}")
            out[method] = out.get(method, 0) + value
    return out


def sub(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    """Per-key difference (non-zero only)."""
    out = {k: v - before.get(k, 0) for k, v in after.items()}
    return {k: v for k, v in out.items() if v}


async def watch_until(
    api: Api, path: str, rv: str, done: Any, state: dict[str, dict[str, Any]], timeout: float
) -> None:
    """Follow a watch from ``rv`` (reconnecting) into ``state`` until ``done(state)``."""
    assert api.session is not None
    deadline = time.monotonic() + timeout
    while not done(state):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"watch {path}: condition not reached within {timeout:.0f}s")
        params = {
            "watch": "true",
            "resourceVersion": rv,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(int(min(left, 300)) + 1),
        }
        try:
            async with api.session.get(
                api.base + path, params=params, timeout=aiohttp.ClientTimeout(total=left + 5)
            ) as resp:
                async for line in resp.content:
                    event = json.loads(line)
                    obj = event["object"]
                    if event["type"] == "ERROR":
                        listing = await api.call("GET", path)
                        rv = listing["metadata"]["resourceVersion"]
                        state.clear()
                        state.update({o["metadata"]["name"]: o for o in listing["items"]})
                        break
                    rv = obj["metadata"].get("resourceVersion", rv)
                    if event["type"] == "DELETED":
                        state.pop(obj["metadata"]["name"], None)
                    elif event["type"] != "BOOKMARK":
                        state[obj["metadata"]["name"]] = obj
                    if done(state):
                        return
        except (TimeoutError, aiohttp.ClientError):
            await asyncio.sleep(0.2)


async def prepare_pool(stack: LocalStack, api: Any, replicas: int) -> None:
    """The default WorkerPool with ``replicas`` workers and the gateway Secret in the stack's
    namespace, once the ate-api simulator sees the pool (``api``: an async ``call``)."""
    ns = stack.namespace
    debug = stack.procs["substrate"].ready["debug"]
    await api.call(
        "POST",
        f"/apis/ate.dev/v1alpha1/namespaces/{ns}/workerpools",
        {
            "apiVersion": "ate.dev/v1alpha1",
            "kind": "WorkerPool",
            "metadata": {"name": DEFAULT_POOL, "namespace": ns},
            "spec": {"replicas": replicas, "ateomImage": POOL_IMAGE},
        },
    )
    await api.call(
        "POST",
        f"/api/v1/namespaces/{ns}/secrets",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": GATEWAY_SECRET, "namespace": ns},
            "stringData": {"token": "bench-" + "x" * 32},
        },
    )
    stack.wait(
        "simulator sees the pool",
        lambda: sim_state(debug)["pools"].get(f"{ns}/{DEFAULT_POOL}") == replicas,
        timeout=60,
    )


async def drive(stack: LocalStack, args: argparse.Namespace) -> Result:
    """Create, converge, idle, delete; measure each phase."""
    n, ns = args.count, stack.namespace
    res = Result(count=n, window=args.window, workdir=str(stack.workdir))
    debug = stack.procs["substrate"].ready["debug"]
    metrics_url = stack.procs["controller"].ready["metrics"].rstrip("/") + "/metrics"
    hp = f"/apis/kagent.dev/v1alpha2/namespaces/{ns}/agentharnesses"
    async with Api(stack.kubeconfig, args.concurrency) as api:
        replicas = n + args.pool_margin
        await prepare_pool(stack, api, replicas)
        listing = await api.call("GET", hp)
        rv = listing["metadata"]["resourceVersion"]
        base_counts = flatten(await api.counters())
        base_metrics = scrape(metrics_url)
        state: dict[str, dict[str, Any]] = {}
        names = [f"h-{i:05d}" for i in range(n)]
        log(f"creating {n} harnesses (concurrency {args.concurrency}) ...")
        t0 = time.monotonic()
        watcher = asyncio.create_task(
            watch_until(
                api,
                hp,
                rv,
                lambda s: len(s) == n and all(is_ready(o) for o in s.values()),
                state,
                args.timeout,
            )
        )
        await asyncio.gather(*(api.call("POST", hp, harness(x, ns)) for x in names))
        res.create_s = time.monotonic() - t0
        log(f"  created in {res.create_s:.1f}s; waiting for Ready ...")
        await watcher
        res.ready_s = time.monotonic() - t0
        conv_counts = flatten(await api.counters())
        conv_metrics = scrape(metrics_url)
        res.converge = diff(conv_counts, base_counts)
        res.ateapi_converge = sub(ateapi_calls(conv_metrics), ateapi_calls(base_metrics))
        log(f"  all Ready after {res.ready_s:.1f}s; quiet window {args.window:.0f}s ...")
        await asyncio.sleep(args.window)
        idle_counts = flatten(await api.counters())
        idle_metrics = scrape(metrics_url)
        res.steady = diff(idle_counts, conv_counts)
        res.steady_ateapi = sum(
            sub(ateapi_calls(idle_metrics), ateapi_calls(conv_metrics)).values()
        )
        res.actors_created = len(sim_state(debug)["actors"])
        listing = await api.call("GET", hp)
        rv = listing["metadata"]["resourceVersion"]
        state = {o["metadata"]["name"]: o for o in listing["items"]}
        log(f"deleting {n} harnesses ...")
        t1 = time.monotonic()
        watcher = asyncio.create_task(
            watch_until(api, hp, rv, lambda s: not s, state, args.timeout)
        )
        await asyncio.gather(*(api.call("DELETE", f"{hp}/{x}", ok=(404,)) for x in names))
        await watcher
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + args.timeout
        while True:
            actors = (await loop.run_in_executor(None, sim_state, debug))["actors"]
            if not actors or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.25)
        res.delete_s = time.monotonic() - t1
        res.leftover_actors = len(actors)
        res.leftover_harnesses = len((await api.call("GET", hp))["items"])
        end_metrics = scrape(metrics_url)
        res.deletion = diff(flatten(await api.counters()), idle_counts)
        res.ateapi_delete = sub(ateapi_calls(end_metrics), ateapi_calls(idle_metrics))
        res.reconciles = metric_sum(end_metrics, "kagent_substrate_reconcile_total{")
    for name, proc in stack.procs.items():
        res.rss_mb[name] = peak_rss_mb(proc.popen.pid)
        res.cpu_s[name] = cpu_seconds(proc.popen.pid)
    return res


def table(res: Result) -> str:
    """The one table: figure, value, goal, verdict."""
    n = res.count
    rows: list[tuple[str, str, str, str]] = []

    def row(name: str, value: str, goal: str = "", ok: bool | None = None) -> None:
        rows.append((name, value, goal, "" if ok is None else ("ok" if ok else "MISSED")))

    w_conv, w_del = writes(res.converge), writes(res.deletion)
    scale = READY_GOAL_S * n / 1000
    row("harnesses", str(n))
    row("create requests (through the webhook)", f"{res.create_s:.1f} s")
    row(
        "apply -> all Ready",
        f"{res.ready_s:.1f} s",
        f"<= {READY_GOAL_S:.0f} s for 1,000 (pro rata {scale:.0f} s)",
        res.ready_s <= max(scale, 1.0),
    )
    row("  harnesses Ready per second", f"{n / res.ready_s:.1f}")
    row("controller API requests per harness, to Ready", f"{sum(res.converge.values()) / n:.2f}")
    for verb, count in sorted(by_verb(res.converge).items()):
        row(f"  {verb}", f"{count / n:.2f}")
    row(
        "writes per harness, to Ready (Leases apart)",
        f"{w_conv / n:.2f}",
        f"<= {WRITES_GOAL:.0f}",
        w_conv / n <= WRITES_GOAL,
    )
    for (verb, resource), count in sorted(res.converge.items()):
        if verb in WRITE_VERBS and resource != LEASES:
            row(f"  {verb} {resource}", f"{count / n:.2f}")
    row(
        f"writes in the {res.window:.0f} s after convergence (Leases apart)",
        str(writes(res.steady)),
        "0",
        writes(res.steady) == 0,
    )
    row("  Lease renewals in that window (leader election)", str(lease_writes(res.steady)))
    row("  controller API requests in that window", str(sum(res.steady.values())))
    for (verb, resource), count in sorted(res.steady.items()):
        row(f"    {verb} {resource}", str(count))
    row("ate-api calls in that window", f"{res.steady_ateapi:.0f}")
    row(
        "ate-api calls per harness, to Ready",
        f"{sum(res.ateapi_converge.values()) / n:.2f}",
    )
    for method, count in sorted(res.ateapi_converge.items()):
        row(f"  {method}", f"{count / n:.2f}")
    row("reconciles per harness (whole run)", f"{res.reconciles / n:.2f}")
    row("delete -> every harness, actor and golden actor gone", f"{res.delete_s:.1f} s")
    row("writes per harness, deletion", f"{w_del / n:.2f}")
    for (verb, resource), count in sorted(res.deletion.items()):
        if verb in WRITE_VERBS and resource != LEASES:
            row(f"  {verb} {resource}", f"{count / n:.2f}")
    row("ate-api calls per harness, deletion", f"{sum(res.ateapi_delete.values()) / n:.2f}")
    row("actors (incl. golden) left", str(res.leftover_actors), "0", res.leftover_actors == 0)
    row("harnesses left", str(res.leftover_harnesses), "0", res.leftover_harnesses == 0)
    for name in res.rss_mb:
        row(f"peak RSS {name}", f"{res.rss_mb[name]:.0f} MiB (cpu {res.cpu_s[name]:.1f} s)")
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [
        " | ".join(h.ljust(w) for h, w in zip(("figure", "value", "goal", ""), widths, strict=True))
    ]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def goals_met(res: Result) -> bool:
    """Writes and cleanup goals (the time goal is judged for 1,000 only)."""
    return (
        writes(res.converge) / res.count <= WRITES_GOAL
        and writes(res.steady) == 0
        and res.leftover_actors == 0
        and res.leftover_harnesses == 0
    )


def parser(prog: str, count: int, window: float) -> argparse.ArgumentParser:
    """Flags (shared with bench_scale.py, which only changes the defaults)."""
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    p.add_argument("--count", type=int, default=count, help=f"harnesses (default {count})")
    p.add_argument(
        "--window",
        type=float,
        default=window,
        help=f"quiet seconds after Ready (default {window:.0f})",
    )
    p.add_argument("--concurrency", type=int, default=16, help="concurrent create/delete requests")
    p.add_argument("--pool-margin", type=int, default=20, help="workers beyond --count")
    p.add_argument("--timeout", type=float, default=600, help="seconds allowed per phase")
    p.add_argument("--workdir", help="folder for logs and state (default: a temp folder)")
    p.add_argument("--json", type=Path, help="also write the figures as JSON here")
    p.add_argument(
        "--controller-arg", action="append", default=[], help="extra controller flag (repeatable)"
    )
    return p


def main(
    argv: Sequence[str] | None = None,
    *,
    count: int = 200,
    window: float = 30.0,
    prog: str = "bench_controller.py",
) -> int:
    """Run once, print the table; exit 1 when a writes/cleanup goal is missed."""
    args = parser(prog, count, window).parse_args(argv)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench-controller-"))
    stack = LocalStack(workdir, namespace="bench", controller_args=args.controller_arg)
    log(f"starting the local stack (logs in {workdir}) ...")
    try:
        stack.up()
        res = asyncio.run(drive(stack, args))
    finally:
        stack.down()
    print(table(res))
    if args.json:
        args.json.write_text(json.dumps(res.as_json(), indent=2))
    return 0 if goals_met(res) else 1


if __name__ == "__main__":
    sys.exit(main())
