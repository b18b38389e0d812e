"""Fault injection on the local stack: while harnesses and sessions go create -> Ready -> delete, inject ate-api
UNAVAILABLE bursts and latency, Kubernetes 409/410/429/500 and dropped watches, and SIGKILL the
controller at random points (restarting it with the same command line). Every harness
converges, then everything goes: no harness (no stuck finalizer), no ActorTemplate, no actor or
golden actor; and no harness ever had two actors (the simulator's state, sampled throughout).

Sessions: a SandboxAgent serves messages on distinct contexts through the controller's gateway
while faults are armed and the controller (so the gateway too) is killed; clients retry as real
ones would. Every session ends with exactly one actor (and the agent's golden actor), all gone
after the agent is deleted.

Default run: 20 harnesses, 10 sessions, 4 kills. ``--run-slow``: 100 harnesses, 50 sessions, 14.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from benchmarks.bench_controller import POOL_IMAGE, Api, harness, is_ready, sim_state
from devstack.stack import DEFAULT_POOL, LocalStack
from shared.naming import harness_actor_id, sandbox_session_actor_id, sandbox_template_name

pytestmark = pytest.mark.e2e
NS = "faults"
AGENT = "hello-agent"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LEADER_FLAGS = ["--lease-duration", "4s", "--renew-deadline", "3s", "--retry-period", "1s"]


@dataclass
class Watchdog:
    """Samples the simulator's actors in a thread: actor ids ever seen per harness template."""

    debug: str
    ids: dict[str, set[str]] = field(default_factory=dict)
    samples: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.wait(0.3):
            try:
                actors = sim_state(self.debug)["actors"]
            except OSError:
                continue
            self.samples += 1
            for a in actors:
                if a["actor_id"].startswith("ahr-"):
                    self.ids.setdefault(a["template"], set()).add(a["actor_id"])

    def duplicates(self) -> dict[str, set[str]]:
        """Templates that ever had more than one harness actor."""
        return {t: ids for t, ids in self.ids.items() if len(ids) > 1}


def _post(url: str, body: Any, method: str = "POST", headers: dict[str, str] | None = None) -> None:
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    urllib.request.urlopen(req, timeout=10).read()


class Injector:
    """Arms faults in the simulator and the kube stand-in; kills and restarts the controller."""

    def __init__(self, stack: LocalStack, api: Api, rng: random.Random) -> None:
        self.stack, self.api, self.rng = stack, api, rng
        self.debug = stack.procs["substrate"].ready["debug"]
        self.kills = 0
        self.restarts = 0

    async def substrate_burst(self) -> None:
        method = self.rng.choice(["*", "CreateActor", "GetActor", "ResumeActor", "DeleteActor"])
        _post(self.debug + "/faults", {"method": method, "unavailable": self.rng.randint(2, 8)})
        _post(self.debug + "/faults", {"method": "GetActor", "latency": 0.2})

    async def kube_burst(self) -> None:
        errors = [
            {"verb": "patch", "resource": "agentharnesses", "code": 409, "count": 3},
            {"verb": "get", "resource": "actortemplates", "code": 500, "count": 3},
            {"verb": "create", "resource": "actortemplates", "code": 429, "count": 2},
            {"verb": "watch", "resource": "agentharnesses", "code": 410, "count": 1},
            {"verb": "get", "resource": "agentharnesses", "code": 429, "count": 2},
        ]
        body = {"errors": self.rng.sample(errors, 3), "dropWatches": True}
        await self.api.call("POST", "/devstack/faults", body)

    async def clear(self) -> None:
        _post(self.debug + "/faults", {}, method="DELETE")
        await self.api.call("DELETE", "/devstack/faults")

    def kill_and_restart(self) -> None:
        """SIGKILL the controller and start it again with the same command line."""
        self.stack.procs["controller"].stop(signal.SIGKILL)
        self.kills += 1
        self.restarts += 1
        self.stack.procs["controller"] = self.stack.start_controller(f"controller-{self.restarts}")

    async def chaos(self, seconds: float, kills: int) -> None:
        """Faults now; ``kills`` SIGKILLs at random points within ``seconds``."""
        await self.substrate_burst()
        await self.kube_burst()
        loop = asyncio.get_running_loop()
        previous = 0.0
        for at in sorted(self.rng.uniform(0.1, seconds) for _ in range(kills)):
            await asyncio.sleep(at - previous)
            previous = at
            await loop.run_in_executor(None, self.kill_and_restart)
            if self.rng.random() < 0.5:
                await self.substrate_burst()
                await self.kube_burst()


async def _until(what: str, check: Any, timeout: float) -> None:
    """Poll ``check()`` (truthy: done; a falsy value's repr says what is left)."""
    deadline = time.monotonic() + timeout
    while True:
        left = await check()
        if left is True:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout:.0f}s; left: {left}")
        await asyncio.sleep(0.3)


def _reason(obj: dict[str, Any]) -> str:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return f"{c.get('status')}/{c.get('reason')}: {str(c.get('message'))[:120]}"
    return "no Ready condition"


def _message(stack: LocalStack, session: str, deadline: float) -> int:
    """Send one A2A message, retrying (new gateway address after a restart) until answered."""
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "message/send",
        "params": {
            "message": {
                "role": "user",
                "messageId": session,
                "contextId": session,
                "parts": [{"kind": "text", "text": "hi"}],
            }
        },
    }
    token = stack.demo_token_file.read_text().strip()
    attempts = 0
    while True:
        attempts += 1
        gateway = stack.procs["controller"].ready.get("gateway", "")
        try:
            req = urllib.request.Request(
                f"{gateway}/api/a2a-sandboxes/{NS}/{AGENT}/",
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
                method="POST",
            )
            with urllib.request.urlopen(req, timeout=30) as resp:
                if "error" not in json.loads(resp.read()):
                    return attempts
        except (OSError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"session {session}: no answer after {attempts} attempts")
        time.sleep(0.3)


async def sessions_phase(
    stack: LocalStack, api: Api, inject: Injector, sessions: int, kills: int
) -> dict[str, Any]:
    """Messages on ``sessions`` contexts under faults and ``kills`` controller kills."""
    sp = f"/apis/kagent.dev/v1alpha2/namespaces/{NS}/sandboxagents/{AGENT}"
    await _until("SandboxAgent Ready", lambda: _sa_ready(api, sp), 120)
    ids = [f"ctx-{i:03d}" for i in range(sessions)]
    chaos = asyncio.create_task(inject.chaos(2.0, kills))
    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + 120 + sessions
    with ThreadPoolExecutor(8) as pool:
        attempts = await asyncio.gather(
            *(loop.run_in_executor(pool, _message, stack, s, deadline) for s in ids)
        )
    await chaos
    await inject.clear()
    template = f"{NS}/{sandbox_template_name(NS, AGENT)}"
    actors = {
        a["actor_id"]
        for a in sim_state(stack.procs["substrate"].ready["debug"])["actors"]
        if a["template"] == template
    }
    expected = {sandbox_session_actor_id(NS, AGENT, s) for s in ids}
    return {
        "sessions": sessions,
        "retries": sum(attempts) - sessions,
        "session_actors": actors,
        "expected_session_actors": expected,
    }


async def _sa_ready(api: Api, path: str) -> Any:
    obj = await api.call("GET", path, ok=(404,))
    return True if obj and is_ready(obj) else (obj or {}).get("status")


async def scenario(
    stack: LocalStack, count: int, kills: int, seed: int, sessions: int = 0, session_kills: int = 0
) -> dict[str, Any]:
    """create -> Ready -> delete under faults; returns the figures."""
    rng = random.Random(seed)
    hp = f"/apis/kagent.dev/v1alpha2/namespaces/{NS}/agentharnesses"
    debug = stack.procs["substrate"].ready["debug"]
    dog = Watchdog(debug)
    thread = threading.Thread(target=dog.run, daemon=True)
    thread.start()
    async with Api(stack.kubeconfig, 8) as api:
        inject = Injector(stack, api, rng)
        names = [f"f-{i:04d}" for i in range(count)]
        started = time.monotonic()
        chaos = asyncio.create_task(inject.chaos(3.0 + count * 0.05, kills - kills // 3))
        await asyncio.gather(*(api.call("POST", hp, harness(n, NS)) for n in names))
        await chaos
        await inject.clear()

        async def all_ready() -> Any:
            items = (await api.call("GET", hp))["items"]
            if len(items) == count and all(is_ready(i) for i in items):
                return True
            return [(i["metadata"]["name"], _reason(i)) for i in items if not is_ready(i)][:5]

        await _until("every harness Ready after the faults", all_ready, 120 + count)
        ready_s = time.monotonic() - started
        session_figures = (
            await sessions_phase(stack, api, inject, sessions, session_kills) if sessions else {}
        )
        deleting = time.monotonic()
        chaos = asyncio.create_task(inject.chaos(2.0, kills // 3))
        await asyncio.gather(*(api.call("DELETE", f"{hp}/{n}", ok=(404,)) for n in names))
        sap = f"/apis/kagent.dev/v1alpha2/namespaces/{NS}/sandboxagents"
        for agent in (await api.call("GET", sap))["items"]:
            await api.call("DELETE", f"{sap}/{agent['metadata']['name']}", ok=(404,))
        await chaos
        await inject.clear()

        async def all_gone() -> Any:
            left = (await api.call("GET", hp))["items"]
            templates = (
                await api.call("GET", f"/apis/ate.dev/v1alpha1/namespaces/{NS}/actortemplates")
            )["items"]
            actors = sim_state(debug)["actors"]
            agents = (await api.call("GET", sap))["items"]
            if not left and not templates and not actors and not agents:
                return True
            return {
                "harnesses": [
                    (h["metadata"]["name"], h["metadata"].get("finalizers"), _reason(h))
                    for h in left
                ][:5],
                "templates": [t["metadata"]["name"] for t in templates][:5],
                "actors": [(a["actor_id"], a["status"]) for a in actors][:5],
                "counts": (len(left), len(templates), len(actors)),
            }

        await _until("harnesses, templates, actors and golden actors gone", all_gone, 120 + count)
        delete_s = time.monotonic() - deleting
    dog.stop.set()
    thread.join(5)
    return {
        "count": count,
        "kills": inject.kills,
        "ready_s": round(ready_s, 1),
        "delete_s": round(delete_s, 1),
        "samples": dog.samples,
        "duplicates": dog.duplicates(),
        "harness_actors_seen": sum(len(v) for v in dog.ids.values()),
        **session_figures,
    }


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    s = LocalStack(tmp_path_factory.mktemp("faults"), namespace=NS, controller_args=LEADER_FLAGS)
    s.up()
    pool = {
        "apiVersion": "ate.dev/v1alpha1",
        "kind": "WorkerPool",
        "metadata": {"name": DEFAULT_POOL, "namespace": NS},
        "spec": {"replicas": 200, "ateomImage": POOL_IMAGE},
    }
    s.kubectl("create", "-f", "-", input_text=json.dumps(pool))
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "bench-gateway", "namespace": NS},
        "stringData": {"token": "t-" + "x" * 30},
    }
    s.kubectl("create", "-f", "-", input_text=json.dumps(secret))
    for example in ("sandboxagent-go-substrate.yaml", "sandboxagent-minimal-substrate.yaml"):
        s.kubectl("apply", "-n", NS, "-f", str(EXAMPLES / example))
    yield s
    s.down()


def _check(stack: LocalStack, figures: dict[str, Any], count: int, kills: int) -> None:
    print(f"\nfaults: {figures}")
    assert figures["kills"] == kills
    if figures.get("sessions"):
        # One actor per session (none duplicated under a second id) plus the agent's golden actor.
        extra = figures["session_actors"] - figures["expected_session_actors"]
        assert figures["expected_session_actors"] <= figures["session_actors"]
        assert len(extra) <= 1, extra
    assert not figures["duplicates"], figures["duplicates"]
    # Actor ids are deterministic: one per harness, whatever happened.
    assert figures["harness_actors_seen"] <= count
    assert figures["samples"] > 0
    ids = {harness_actor_id(NS, f"f-{i:04d}") for i in range(count)}
    assert len(ids) == count


def test_create_ready_delete_survives_faults_and_controller_kills(stack: LocalStack) -> None:
    figures = asyncio.run(scenario(stack, 20, 3, seed=7, sessions=10, session_kills=1))
    _check(stack, figures, 20, 4)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_long_fault_run(stack: LocalStack) -> None:
    figures = asyncio.run(scenario(stack, 100, 12, seed=11, sessions=50, session_kills=2))
    _check(stack, figures, 100, 14)
