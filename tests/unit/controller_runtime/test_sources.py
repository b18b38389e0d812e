"""`controller/runtime/sources.py`: predicates and mappers are pure functions of an event."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from controller.runtime.clock import FakeClock
from controller.runtime.queue import WorkQueue
from controller.runtime.sources import (
    Source,
    enqueue_owner,
    enqueue_referencing,
    enqueue_self,
    ignore_status_only,
    ref_value,
)
from shared.api.keys import ObjectKey
from shared.kube.watching import Store, WatchEvent


def obj(name: str, ns: str = "n", gen: int = 1, **meta: Any) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "namespace": ns,
            "generation": gen,
            "resourceVersion": "1",
            **meta,
        },
        "status": {},
    }


def modified(new: dict[str, Any], old: dict[str, Any]) -> WatchEvent:
    return WatchEvent("MODIFIED", new, old)


def test_ignore_status_only_updates() -> None:
    base = obj("a", labels={"x": "1"})
    status_only = obj("a", labels={"x": "1"})
    status_only["status"] = {"phase": "Ready"}
    assert not ignore_status_only(modified(status_only, base))
    assert ignore_status_only(modified(obj("a", gen=2, labels={"x": "1"}), base))
    assert ignore_status_only(modified(obj("a", labels={"x": "2"}), base))
    assert ignore_status_only(modified(obj("a", labels={"x": "1"}, annotations={"k": "v"}), base))
    assert ignore_status_only(
        modified(obj("a", labels={"x": "1"}, deletionTimestamp="2024-01-01T00:00:00Z"), base)
    )
    assert ignore_status_only(modified(obj("a", labels={"x": "1"}, finalizers=["f"]), base))
    assert ignore_status_only(WatchEvent("ADDED", base))
    assert ignore_status_only(WatchEvent("DELETED", base, base))
    assert ignore_status_only(WatchEvent("MODIFIED", base, None))


def test_enqueue_self_and_owner() -> None:
    owned = obj(
        "tmpl",
        ownerReferences=[
            {
                "apiVersion": "kagent.dev/v1alpha2",
                "kind": "AgentHarness",
                "name": "h1",
                "controller": True,
            },
            {"apiVersion": "kagent.dev/v1alpha2", "kind": "AgentHarness", "name": "h2"},
            {"apiVersion": "other.dev/v1", "kind": "AgentHarness", "name": "x", "controller": True},
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "y", "controller": True},
        ],
    )
    ev = WatchEvent("ADDED", owned)
    assert enqueue_self(ev) == [ObjectKey("n", "tmpl")]
    assert enqueue_owner("kagent.dev", "AgentHarness")(ev) == [ObjectKey("n", "h1")]
    assert enqueue_owner("kagent.dev", "AgentHarness", controller_only=False)(ev) == [
        ObjectKey("n", "h1"),
        ObjectKey("n", "h2"),
    ]
    assert enqueue_owner("", "ConfigMap")(ev) == [ObjectKey("n", "y")]
    assert enqueue_owner("kagent.dev", "AgentHarness")(WatchEvent("ADDED", obj("bare"))) == []


def secrets_of(o: dict[str, Any]) -> list[str]:
    ns = o["metadata"]["namespace"]
    return [ref_value(ns, s) for s in o.get("spec", {}).get("secrets", [])]


def test_enqueue_referencing_follows_the_index() -> None:
    harnesses = Store({"secrets": secrets_of})
    h1 = obj("h1")
    h1["spec"] = {"secrets": ["tok", "bot"]}
    h2 = obj("h2")
    h2["spec"] = {"secrets": ["tok"]}
    harnesses.upsert(h1)
    harnesses.upsert(h2)
    mapper = enqueue_referencing(harnesses, "secrets")
    assert mapper(WatchEvent("MODIFIED", obj("tok"), obj("tok"))) == [
        ObjectKey("n", "h1"),
        ObjectKey("n", "h2"),
    ]
    assert mapper(WatchEvent("DELETED", obj("bot"))) == [ObjectKey("n", "h1")]
    assert mapper(WatchEvent("ADDED", obj("tok", ns="other"))) == []
    h1["spec"] = {"secrets": []}
    harnesses.upsert(h1)
    assert mapper(WatchEvent("ADDED", obj("tok"))) == [ObjectKey("n", "h2")]


class FakeWatcher:
    def __init__(self, events: list[WatchEvent]) -> None:
        self._events = events
        self.store = Store()
        self.synced = asyncio.Event()
        self.resource = "widgets"

    async def events(self) -> AsyncIterator[WatchEvent]:
        for ev in self._events:
            self.store.upsert(ev.object)
            yield ev
        self.synced.set()
        await asyncio.Event().wait()


async def test_source_applies_predicates_mappers_and_resync() -> None:
    clock = FakeClock()
    a, b = obj("a"), obj("b")
    a2 = obj("a")
    a2["status"] = {"x": 1}
    watcher = FakeWatcher(
        [WatchEvent("ADDED", a), WatchEvent("ADDED", b), WatchEvent("MODIFIED", a2, a)]
    )
    q: WorkQueue[ObjectKey] = WorkQueue(clock=clock)
    src = Source(
        watcher,
        q,
        [enqueue_self, enqueue_self],
        predicates=[ignore_status_only],
        resync=60,
        clock=clock,
    )  # type: ignore[arg-type]
    assert src.keys_for(WatchEvent("MODIFIED", a2, a)) == []
    assert src.keys_for(WatchEvent("ADDED", a)) == [ObjectKey("n", "a")]
    task = asyncio.create_task(src.run())
    await asyncio.wait_for(watcher.synced.wait(), 1)
    assert [await q.get(), await q.get()] == [ObjectKey("n", "a"), ObjectKey("n", "b")]
    assert len(q) == 0  # the status-only update was dropped
    q.done(ObjectKey("n", "a"))
    q.done(ObjectKey("n", "b"))
    await clock.advance(60)
    assert len(q) == 2  # resync re-enqueued every cached object
    task.cancel()
