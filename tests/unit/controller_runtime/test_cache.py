"""`CachedReader`: reads from a covering, synced, unfiltered watch cache; else a live GET."""

from __future__ import annotations

from typing import Any

import pytest

from controller.runtime.cache import CachedReader
from controller.substrate.outcome import MissingReference
from controller.substrate.references import read_reference
from shared.kube import errors as kerr
from shared.kube.resources import ACTOR_TEMPLATE, AGENT_HARNESS, SECRET
from shared.kube.watching import Store, Watcher


class FakeKube:
    def __init__(self) -> None:
        self.gets: list[tuple[str, str | None]] = []

    async def get(self, res: Any, name: str, namespace: str | None = None) -> dict[str, Any]:
        self.gets.append((name, namespace))
        return {"metadata": {"name": name, "namespace": namespace}, "live": True}


def watcher(res: Any, namespace: str | None, objs: list[dict[str, Any]], **kw: Any) -> Watcher:
    w = Watcher(FakeKube(), res, namespace=namespace, store=Store(), **kw)  # type: ignore[arg-type]
    w.store.replace(objs, namespace)
    w.synced.set()
    return w


def harness(name: str, ns: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": ns, "resourceVersion": "1"}, "spec": {}}


async def test_reads_come_from_the_cache_as_private_copies() -> None:
    kube = FakeKube()
    reader = CachedReader(kube)  # type: ignore[arg-type]
    w = watcher(AGENT_HARNESS, None, [harness("a", "team")])
    reader.register(w)
    got = await reader.get(AGENT_HARNESS, "a", "team")
    got["spec"]["edited"] = True
    assert w.store.objects()[0]["spec"] == {}  # the cache is untouched
    with pytest.raises(kerr.NotFound):
        await reader.get(AGENT_HARNESS, "missing", "team")
    assert kube.gets == [] and reader.hits == 2


async def test_uncovered_namespace_unsynced_or_filtered_watchers_read_live() -> None:
    kube = FakeKube()
    reader = CachedReader(kube)  # type: ignore[arg-type]
    reader.register(watcher(AGENT_HARNESS, "team", [harness("a", "team")]))
    unsynced = watcher(SECRET, None, [])
    unsynced.synced.clear()
    reader.register(unsynced)
    filtered = watcher(ACTOR_TEMPLATE, None, [], label_selector="app=x")
    reader.register(filtered)
    assert (await reader.get(AGENT_HARNESS, "a", "other"))["live"] is True
    assert (await reader.get(SECRET, "s", "team"))["live"] is True
    assert (await reader.get(ACTOR_TEMPLATE, "t", "team"))["live"] is True
    assert kube.gets == [("a", "other"), ("s", "team"), ("t", "team")] and reader.misses == 3


class Absent(FakeKube):
    async def get(self, res: Any, name: str, namespace: str | None = None) -> dict[str, Any]:
        raise kerr.NotFound(f"{res.plural} {name} not found", status=404)


async def test_a_missing_reference_is_terminal_only_where_a_watch_will_see_it_appear() -> None:
    reader = CachedReader(Absent())  # type: ignore[arg-type]
    reader.register(watcher(SECRET, "team", []))
    assert reader.covers(SECRET, "team") and not reader.covers(SECRET, "kagent")
    watched, unwatched = [], []
    for ns, out in (("team", watched), ("kagent", unwatched)):
        with pytest.raises(MissingReference) as err:
            await read_reference(reader, SECRET, ns, "gw", field="spec.x")
        out.append(err.value)
    assert watched[0].terminal and watched[0].reason == "SecretNotFound"
    assert not unwatched[0].terminal  # retried at the resync period instead
