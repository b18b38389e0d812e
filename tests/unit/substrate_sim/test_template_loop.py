"""The stand-in template controller's queue: several templates at once, one key never twice."""

from __future__ import annotations

import asyncio
import contextlib
from types import SimpleNamespace
from typing import Any

from devstack.substrate.kubewatch import TemplateLoop
from devstack.substrate.server import SimulatorConfig


class Gate:
    """A fake `TemplateController`: each pass waits until released; records overlap."""

    def __init__(self) -> None:
        self.running: dict[str, int] = {}
        self.passes: dict[str, int] = {}
        self.most_at_once = 0
        self.twice_at_once = False
        self.release = asyncio.Event()

    async def reconcile(self, obj: dict[str, Any]) -> float | None:
        name = obj["metadata"]["name"]
        self.running[name] = self.running.get(name, 0) + 1
        self.twice_at_once |= self.running[name] > 1
        self.most_at_once = max(self.most_at_once, sum(self.running.values()))
        try:
            await self.release.wait()
        finally:
            self.running[name] -= 1
        self.passes[name] = self.passes.get(name, 0) + 1
        return None


def template(name: str) -> dict[str, Any]:
    return {"metadata": {"namespace": "ns", "name": name, "uid": name}, "spec": {}}


async def until(check: Any, timeout: float = 5) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.01)


async def test_templates_run_side_by_side_and_a_busy_key_waits_its_turn() -> None:
    control = SimpleNamespace(put_template=lambda info: None, drop_template=lambda *k: None)
    sim = SimpleNamespace(
        config=SimulatorConfig(template_workers=3),
        control=control,
        boots=SimpleNamespace(put_template=lambda *a: None),
        template_phases={},
    )
    loop = TemplateLoop(sim, api=None)  # type: ignore[arg-type]
    gate = Gate()
    loop.controller = gate  # type: ignore[assignment]
    worker = asyncio.create_task(loop.work())
    try:
        for name in ("a", "b", "c", "d"):
            await loop.on_event("ADDED", template(name))
        await until(lambda: gate.most_at_once == 3)  # three workers, three templates at once
        await loop.on_event("MODIFIED", template("a"))  # "a" is in progress: queued after it
        gate.release.set()
        await until(lambda: gate.passes == {"a": 2, "b": 1, "c": 1, "d": 1})
        assert not gate.twice_at_once
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
