"""Kubernetes Events (``events.k8s.io/v1``) for the objects we reconcile, de-duplicated.

The first occurrence of (regarding object, type, reason, note) creates an Event; repeats
within ``series_window`` become a series on that Event (``series.count``,
``series.lastObservedTime``), patched at most once per ``min_patch_interval`` so a hot loop
cannot turn events into an API write storm. Notes pass through `shared.secrets.redact`
with the secrets the caller knows, and are cut to the API's 1 KiB. Recording never raises:
an event is best effort, so a failure is logged and reported as False.
"""

from __future__ import annotations

import logging
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from controller.runtime.clock import Clock, LoopClock
from shared.kube import errors
from shared.kube.client import KubeClient
from shared.kube.resources import EVENT
from shared.secrets import Secret, redact

log = logging.getLogger(__name__)

EventType = Literal["Normal", "Warning"]
NOTE_LIMIT = 1024
FIELD_LIMIT = 128


@dataclass(frozen=True, slots=True)
class RecorderConfig:
    """Who reports, and how repeats are folded."""

    controller: str
    """``reportingController``, e.g. ``kagent.dev/substrate-controller``."""
    instance: str
    """``reportingInstance``: this process (the leader-election identity is a good choice)."""
    series_window: float = 360.0
    """Seconds after the last occurrence during which a repeat joins the series."""
    min_patch_interval: float = 30.0
    """Seconds between two series patches of one Event (repeats in between are counted)."""
    cache_size: int = 4096
    """Distinct events remembered for de-duplication."""


@dataclass(slots=True)
class _Series:
    namespace: str
    name: str
    count: int
    last_seen: float
    last_patch: float
    written_count: int


def _microtime(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def object_reference(obj: Mapping[str, Any]) -> dict[str, str]:
    """The ``regarding`` reference of an object (apiVersion, kind, namespace, name, uid, rv)."""
    meta = obj.get("metadata") or {}
    ref = {
        "apiVersion": str(obj.get("apiVersion") or ""),
        "kind": str(obj.get("kind") or ""),
        "namespace": str(meta.get("namespace") or ""),
        "name": str(meta.get("name") or ""),
        "uid": str(meta.get("uid") or ""),
        "resourceVersion": str(meta.get("resourceVersion") or ""),
    }
    return {k: v for k, v in ref.items() if v}


class EventRecorder:
    """Writes de-duplicated Events through the Kubernetes client."""

    def __init__(
        self,
        client: KubeClient,
        config: RecorderConfig,
        *,
        clock: Clock | None = None,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.config = config
        self.clock = clock or LoopClock()
        self._wall = wall
        self._cache: OrderedDict[tuple[str, ...], _Series] = OrderedDict()

    async def normal(self, regarding: Mapping[str, Any], reason: str, note: str, **kw: Any) -> bool:
        """Record a Normal event."""
        return await self.record(regarding, "Normal", reason, note, **kw)

    async def warning(
        self, regarding: Mapping[str, Any], reason: str, note: str, **kw: Any
    ) -> bool:
        """Record a Warning event."""
        return await self.record(regarding, "Warning", reason, note, **kw)

    async def record(
        self,
        regarding: Mapping[str, Any],
        type: EventType,
        reason: str,
        note: str,
        *,
        action: str = "Reconcile",
        secrets: Iterable[Secret | str | None] = (),
        related: Mapping[str, Any] | None = None,
    ) -> bool:
        """Create the Event, or count a repeat into its series; False if the API refused."""
        ref = object_reference(regarding)
        note = redact(note, *secrets)[:NOTE_LIMIT]
        reason = reason[:FIELD_LIMIT]
        ident = (
            ref.get("uid") or f"{ref.get('namespace')}/{ref.get('kind')}/{ref.get('name')}",
            type,
            reason,
            note,
        )
        now = self.clock.now()
        series = self._cache.get(ident)
        if series is not None and now - series.last_seen <= self.config.series_window:
            series.count += 1
            series.last_seen = now
            self._cache.move_to_end(ident)
            if (
                now - series.last_patch < self.config.min_patch_interval
                and series.written_count > 1
            ):
                return True
            return await self._patch_series(ident, series, ref, type, reason, note, action, related)
        return await self._create(ident, ref, type, reason, note, action, related)

    async def _create(
        self,
        ident: tuple[str, ...],
        ref: dict[str, str],
        type: EventType,
        reason: str,
        note: str,
        action: str,
        related: Mapping[str, Any] | None,
    ) -> bool:
        namespace = ref.get("namespace") or "default"
        name = f"{ref.get('name', 'object')[:200]}.{uuid.uuid4().hex[:16]}"
        body: dict[str, Any] = {
            "apiVersion": "events.k8s.io/v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "eventTime": _microtime(self._wall()),
            "reportingController": self.config.controller,
            "reportingInstance": self.config.instance[:FIELD_LIMIT],
            "action": action[:FIELD_LIMIT],
            "reason": reason,
            "regarding": ref,
            "note": note,
            "type": type,
        }
        if related is not None:
            body["related"] = object_reference(related)
        try:
            await self.client.create(EVENT, body, namespace)
        except errors.KubeError as exc:
            log.warning("event %s not recorded: %s", reason, exc, extra={"namespace": namespace})
            return False
        now = self.clock.now()
        self._cache[ident] = _Series(namespace, name, 1, now, now, 1)
        self._cache.move_to_end(ident)
        while len(self._cache) > self.config.cache_size:
            self._cache.popitem(last=False)
        return True

    async def _patch_series(
        self,
        ident: tuple[str, ...],
        series: _Series,
        ref: dict[str, str],
        type: EventType,
        reason: str,
        note: str,
        action: str,
        related: Mapping[str, Any] | None,
    ) -> bool:
        patch = {"series": {"count": series.count, "lastObservedTime": _microtime(self._wall())}}
        try:
            await self.client.patch(EVENT, series.name, patch, series.namespace)
        except errors.NotFound:
            self._cache.pop(ident, None)  # expired on the server: start over
            return await self._create(ident, ref, type, reason, note, action, related)
        except errors.KubeError as exc:
            log.warning(
                "event series %s not updated: %s",
                reason,
                exc,
                extra={"namespace": series.namespace},
            )
            return False
        series.last_patch = self.clock.now()
        series.written_count = series.count
        return True
