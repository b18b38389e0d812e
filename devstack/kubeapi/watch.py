"""Watch streams: subscribe to store changes, replay from a resourceVersion, send bookmarks.

A watch answers 200 and streams one JSON event per line. A resourceVersion older than the
history horizon yields a single ``ERROR`` event carrying a 410 ``Expired`` Status, as the
apiserver does; clients then relist.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from devstack.kubeapi.errors import ApiError
from devstack.kubeapi.selectors import Matcher
from devstack.kubeapi.storage import Change, RKey, Store

_CLOSE = object()
Renderer = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(eq=False, slots=True)
class Subscriber:
    """One open watch: which objects it wants and the queue of changes for it."""

    rkey: RKey
    namespace: str | None
    matcher: Matcher
    queue: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)

    def _wants(self, obj: dict[str, Any] | None) -> bool:
        if obj is None:
            return False
        if self.namespace is not None and obj["metadata"].get("namespace", "") != self.namespace:
            return False
        return self.matcher(obj)

    def translate(self, change: Change) -> tuple[str, dict[str, Any]] | None:
        """The event this watcher sees for a change (selectors turn updates into add/delete)."""
        new_in = change.type != "DELETED" and self._wants(change.obj)
        old_in = self._wants(change.old) if change.type != "ADDED" else False
        if change.type == "DELETED":
            return ("DELETED", change.obj) if old_in else None
        if new_in and old_in:
            return ("MODIFIED", change.obj)
        if new_in:
            return ("ADDED", change.obj)
        if old_in:
            return ("DELETED", change.obj)
        return None


class WatchHub:
    """Fans store changes out to the open watches of each resource."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._subs: dict[RKey, set[Subscriber]] = {}
        store.listeners.append(self._on_change)

    def _on_change(self, change: Change) -> None:
        for sub in self._subs.get(change.rkey, ()):
            sub.queue.put_nowait(change)

    def subscribe(self, rkey: RKey, namespace: str | None, matcher: Matcher) -> Subscriber:
        """Open a subscription (call before reading the initial state: no gap)."""
        sub = Subscriber(rkey, namespace, matcher)
        self._subs.setdefault(rkey, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        """Close a subscription."""
        self._subs.get(sub.rkey, set()).discard(sub)

    def drop_all(self) -> int:
        """End every open watch (fault injection); returns how many were open."""
        count = 0
        for subs in self._subs.values():
            for sub in subs:
                sub.queue.put_nowait(_CLOSE)
                count += 1
        return count

    @property
    def open_count(self) -> int:
        """Number of open watches."""
        return sum(len(s) for s in self._subs.values())


@dataclass(frozen=True, slots=True)
class WatchRequest:
    """The parsed query of one watch."""

    rkey: RKey
    kind: str
    api_version: str
    namespace: str | None
    matcher: Matcher
    resource_version: str
    bookmarks: bool
    send_initial_events: bool
    timeout: float


async def serve_watch(
    request: web.Request,
    hub: WatchHub,
    store: Store,
    wr: WatchRequest,
    render: Renderer,
    *,
    bookmark_interval: float,
) -> web.StreamResponse:
    """Stream a watch until timeout, client disconnect or an injected drop."""
    sub = hub.subscribe(wr.rkey, wr.namespace, wr.matcher)
    try:
        initial: list[tuple[str, dict[str, Any]]] = []
        error: ApiError | None = None
        rv = wr.resource_version
        if wr.send_initial_events or rv in ("", "0"):
            initial = [("ADDED", o) for o in store.list(wr.rkey, wr.namespace) if wr.matcher(o)]
        else:
            try:
                since = store.changes_since(wr.rkey, int(rv))
            except ValueError:
                since = []
                error = ApiError(400, "BadRequest", f'invalid resourceVersion "{rv}"')
            except ApiError as exc:
                since, error = [], exc
            initial = [ev for c in since if (ev := sub.translate(c)) is not None]
        resp = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)

        async def send(typ: str, obj: dict[str, Any]) -> None:
            await resp.write(json.dumps({"type": typ, "object": obj}).encode() + b"\n")

        if error is not None:
            await send("ERROR", error.status())
            await resp.write_eof()
            return resp
        for typ, obj in initial:
            await send(typ, render(obj))
        if wr.send_initial_events and wr.bookmarks:
            await send("BOOKMARK", _bookmark(wr, store.rv, initial_end=True))
        try:
            deadline = time.monotonic() + wr.timeout
            next_bookmark = time.monotonic() + bookmark_interval
            while True:
                now = time.monotonic()
                if now >= deadline:
                    break
                wait = deadline - now
                if wr.bookmarks:
                    wait = max(0.0, min(wait, next_bookmark - now))
                try:
                    item = await asyncio.wait_for(sub.queue.get(), timeout=wait)
                except TimeoutError:
                    if wr.bookmarks and time.monotonic() >= next_bookmark and sub.queue.empty():
                        await send("BOOKMARK", _bookmark(wr, store.rv))
                        next_bookmark = time.monotonic() + bookmark_interval
                    continue
                if item is _CLOSE:
                    break
                ev = sub.translate(item)
                if ev is not None:
                    await send(ev[0], render(ev[1]))
        except ConnectionError:  # the client went away (or the server is stopping)
            return resp
        with contextlib.suppress(ConnectionError, RuntimeError):
            await resp.write_eof()
        return resp
    finally:
        hub.unsubscribe(sub)


def _bookmark(wr: WatchRequest, rv: int, *, initial_end: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"resourceVersion": str(rv)}
    if initial_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    return {"kind": wr.kind, "apiVersion": wr.api_version, "metadata": meta}
