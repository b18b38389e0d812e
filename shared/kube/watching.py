"""List+watch that never gives up: resourceVersion resume, bookmarks, 410 relist, backoff.

`Watcher.events()` lists once (paged), then watches from the list's resourceVersion with
``allowWatchBookmarks``. A stream that ends (server timeout, dropped connection) is reopened
from the last resourceVersion seen (bookmarks keep it fresh). A `Gone` (410: the version
was compacted away) relists and emits the *difference* to what the store held: ADDED for
new objects, MODIFIED for changed ones, DELETED for those that vanished while we were away
— so consumers never miss a deletion. Other failures (connection refused, 5xx, timeouts)
retry after a capped exponential backoff with jitter, then resume from the last version.

The `Store` (informer-lite) holds the latest copy of every object plus secondary indexes
(index name -> value -> keys) that mappers and reconcilers may read; it is updated before
each event is yielded, so a consumer reading the store sees at least that event's state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from shared.api.keys import ObjectKey
from shared.kube.backoff import Backoff
from shared.kube.client import KubeClient, Obj
from shared.kube.errors import Gone, KubeError
from shared.kube.resources import Resource

log = logging.getLogger(__name__)

EventType = Literal["ADDED", "MODIFIED", "DELETED"]
IndexFunc = Callable[[Obj], Iterable[str]]


@dataclass(frozen=True, slots=True)
class WatchEvent:
    """One change: the new object (for DELETED the last state), the previous copy if known."""

    type: EventType
    object: Obj
    old: Obj | None = None
    from_list: bool = False
    """True when derived from a (re)list rather than streamed by the watch."""

    @property
    def key(self) -> ObjectKey:
        """The object's key."""
        return ObjectKey.of(self.object)


def _rv(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


class Store:
    """Latest copy of each object by key, with secondary indexes."""

    def __init__(self, indexers: Mapping[str, IndexFunc] | None = None) -> None:
        self._objects: dict[ObjectKey, Obj] = {}
        self._indexers: dict[str, IndexFunc] = dict(indexers or {})
        self._index: dict[str, dict[str, set[ObjectKey]]] = {n: {} for n in self._indexers}
        self._values: dict[ObjectKey, dict[str, set[str]]] = {}

    def add_indexer(self, name: str, fn: IndexFunc) -> None:
        """Register an index and build it over the current objects."""
        self._indexers[name] = fn
        self._index[name] = {}
        for key, obj in self._objects.items():
            self._link(name, key, obj)

    def _link(self, name: str, key: ObjectKey, obj: Obj) -> None:
        values = set(self._indexers[name](obj))
        self._values.setdefault(key, {})[name] = values
        for value in values:
            self._index[name].setdefault(value, set()).add(key)

    def _unlink(self, key: ObjectKey) -> None:
        # The values recorded at insertion, not recomputed: an object edited in place by a
        # careless reader must not corrupt the index.
        for name, values in self._values.pop(key, {}).items():
            table = self._index[name]
            for value in values:
                keys = table.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del table[value]

    def get(self, key: ObjectKey) -> Obj | None:
        """The latest copy, or None."""
        return self._objects.get(key)

    def keys(self) -> list[ObjectKey]:
        """Every key held."""
        return list(self._objects)

    def objects(self) -> list[Obj]:
        """Every object held."""
        return list(self._objects.values())

    def __len__(self) -> int:
        return len(self._objects)

    def __iter__(self) -> Iterator[ObjectKey]:
        return iter(list(self._objects))

    def __contains__(self, key: object) -> bool:
        return key in self._objects

    def index_keys(self, name: str, value: str) -> list[ObjectKey]:
        """Keys whose index ``name`` yields ``value`` (sorted)."""
        return sorted(self._index[name].get(value, ()))

    def by_index(self, name: str, value: str) -> list[Obj]:
        """Objects whose index ``name`` yields ``value``."""
        return [self._objects[k] for k in self.index_keys(name, value)]

    def upsert(self, obj: Obj) -> Obj | None:
        """Store ``obj``; return the copy it replaced."""
        key = ObjectKey.of(obj)
        old = self._objects.get(key)
        self._unlink(key)
        self._objects[key] = obj
        for name in self._indexers:
            self._link(name, key, obj)
        return old

    def remove(self, key: ObjectKey) -> Obj | None:
        """Forget ``key``; return the copy it held."""
        old = self._objects.pop(key, None)
        self._unlink(key)
        return old

    def replace(self, objects: Iterable[Obj], namespace: str | None = None) -> list[WatchEvent]:
        """Make the store hold exactly ``objects`` (within ``namespace`` when given: a store
        shared by per-namespace watchers keeps the other namespaces); return the events that
        describe the change."""
        events: list[WatchEvent] = []
        seen: set[ObjectKey] = set()
        for obj in objects:
            key = ObjectKey.of(obj)
            seen.add(key)
            old = self.upsert(obj)
            if old is None:
                events.append(WatchEvent("ADDED", obj, None, from_list=True))
            elif _rv(old) != _rv(obj):
                events.append(WatchEvent("MODIFIED", obj, old, from_list=True))
        stale = [
            k
            for k in self._objects
            if k not in seen and (namespace is None or k.namespace == namespace)
        ]
        for key in stale:
            old = self.remove(key)
            assert old is not None
            events.append(WatchEvent("DELETED", old, old, from_list=True))
        return events


class Watcher:
    """Lists and watches one resource forever; yields `WatchEvent`s; keeps a `Store`."""

    def __init__(
        self,
        client: KubeClient,
        resource: Resource,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        store: Store | None = None,
        page_size: int = 500,
        backoff: Backoff | None = None,
        min_stream_seconds: float = 1.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.client = client
        self.resource = resource
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.store = store if store is not None else Store()
        self.page_size = page_size
        self.backoff = backoff or Backoff(initial=0.2, cap=30.0)
        self.min_stream_seconds = min_stream_seconds
        """A stream that ends sooner than this without any event counts as a failure."""
        self._sleep = sleep
        self._rand = rand
        self.synced = asyncio.Event()
        """Set once the first list has been applied to the store."""
        self.resource_version = ""
        """The last resourceVersion seen (list, event or bookmark)."""
        self.relists = 0
        """How many times the watch relisted after the first list (410 Gone)."""

    def _extra(self) -> dict[str, object]:
        return {"kind": str(self.resource), "namespace": self.namespace or ""}

    async def _relist(self) -> list[WatchEvent]:
        page = await self.client.list_all(
            self.resource,
            self.namespace,
            label_selector=self.label_selector,
            field_selector=self.field_selector,
            page_size=self.page_size,
        )
        self.resource_version = page.resource_version
        events = self.store.replace(page.items, self.namespace)
        self.synced.set()
        return events

    async def events(self) -> AsyncIterator[WatchEvent]:
        """Every change, forever (cancel the consuming task to stop)."""
        need_list = True
        failures = 0
        while True:
            got_event = False
            opened = time.monotonic()
            try:
                if need_list:
                    for ev in await self._relist():
                        yield ev
                    need_list = False
                    opened = time.monotonic()
                stream = self.client.watch(
                    self.resource,
                    self.namespace,
                    resource_version=self.resource_version,
                    label_selector=self.label_selector,
                    field_selector=self.field_selector,
                    allow_bookmarks=True,
                )
                async with contextlib.aclosing(stream):
                    async for raw in stream:
                        got_event = True
                        failures = 0
                        change = self._apply(raw)
                        if change is not None:
                            yield change
                if got_event or time.monotonic() - opened >= self.min_stream_seconds:
                    continue
                failures += 1
                log.debug("watch ended early; backing off", extra=self._extra())
            except Gone:
                log.info("watch expired (410); relisting", extra=self._extra())
                need_list = True
                self.relists += 1
                if failures == 0:
                    failures += 1
                    continue
                failures += 1
            except KubeError as exc:
                failures += 1
                log.warning(
                    "watch failed (%s: %s); retrying", type(exc).__name__, exc, extra=self._extra()
                )
            await self._sleep(self.backoff.delay(failures - 1, self._rand))

    def _apply(self, raw: Obj) -> WatchEvent | None:
        typ = raw.get("type")
        obj: Obj = raw.get("object") or {}
        rv = _rv(obj)
        if typ == "BOOKMARK":
            if rv:
                self.resource_version = rv
            return None
        if rv:
            self.resource_version = rv
        if typ in ("ADDED", "MODIFIED"):
            old = self.store.upsert(obj)
            return WatchEvent("MODIFIED" if old is not None else "ADDED", obj, old)
        if typ == "DELETED":
            old = self.store.remove(ObjectKey.of(obj))
            return WatchEvent("DELETED", obj, old)
        log.debug("ignoring watch event type %r", typ, extra=self._extra())
        return None
