"""Per-kind object metrics (SPEC §10): time to Ready and deletions waiting on our finalizer.
Labels: ``kind`` only (``AgentHarness``, ``SandboxAgent``), never an object name or id.

``kagent_substrate_time_to_ready_seconds{kind}`` is observed by the reconcile skeleton when a
status write turns Ready True (once per transition). The deletion gauges are computed at scrape
time from the informer caches, which run on the leader and the standbys alike: an object leaves
them when it is gone, whoever leads and whether or not anyone leads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric

from controller.substrate import objects

Obj = dict[str, Any]
Clock = Callable[[], dt.datetime]

READY_BUCKETS = (1, 2.5, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600)
"""Status timestamps have second precision: nothing finer than a second is meaningful."""
PENDING = "kagent_substrate_deletions_pending"
OLDEST = "kagent_substrate_oldest_deletion_age_seconds"


def utc_now() -> dt.datetime:
    """The wall clock, timezone-aware."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class _Tracked:
    finalizer: str
    objects: Callable[[], Iterable[Obj]]


class ObjectMetrics:
    """Registered once on the controller's registry; the kinds add their caches with `track`."""

    def __init__(self, registry: CollectorRegistry, clock: Clock = utc_now) -> None:
        self.clock = clock
        self.time_to_ready = Histogram(
            "kagent_substrate_time_to_ready_seconds",
            "Seconds from an object's creation, or from its Ready condition leaving True, to "
            "the status write that turns Ready True.",
            ["kind"],
            buckets=READY_BUCKETS,
            registry=registry,
        )
        self._tracked: dict[str, _Tracked] = {}
        registry.register(_Deletions(self))

    def ready(self, kind: str, obj: Obj, now: dt.datetime) -> float:
        """Observe one turn to Ready of ``obj`` (as read before the write); the seconds."""
        since = objects.not_ready_since(obj)
        seconds = max(0.0, (now - since).total_seconds()) if since is not None else 0.0
        self.time_to_ready.labels(kind=kind).observe(seconds)
        return seconds

    def track(self, kind: str, finalizer: str, objects: Callable[[], Iterable[Obj]]) -> None:
        """Report deletions of ``kind``: ``objects`` lists the cached objects at scrape time."""
        self._tracked[kind] = _Tracked(finalizer, objects)

    def kinds(self) -> list[str]:
        """The tracked kinds, sorted."""
        return sorted(self._tracked)

    def deletions(self, kind: str) -> tuple[int, float]:
        """(objects of ``kind`` being deleted that still carry our finalizer, age in seconds of
        the oldest of them or 0)."""
        tracked = self._tracked[kind]
        now = self.clock()
        ages = [
            objects.deletion_age(meta, now)
            for meta in (o.get("metadata") or {} for o in tracked.objects())
            if meta.get("deletionTimestamp") and tracked.finalizer in (meta.get("finalizers") or [])
        ]
        return len(ages), max([0.0, *ages])


class _Deletions:
    """The scrape-time collector of the two deletion gauges."""

    def __init__(self, owner: ObjectMetrics) -> None:
        self.owner = owner

    def describe(self) -> Iterator[Metric]:
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        pending, oldest = self._families()
        for kind in self.owner.kinds():
            count, age = self.owner.deletions(kind)
            pending.add_metric([kind], count)
            oldest.add_metric([kind], age)
        yield pending
        yield oldest

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        pending = GaugeMetricFamily(
            PENDING,
            "Objects being deleted (deletionTimestamp set) that still carry our finalizer.",
            labels=["kind"],
        )
        oldest = GaugeMetricFamily(
            OLDEST,
            "Seconds since the deletionTimestamp of the oldest such object (0 when none).",
            labels=["kind"],
        )
        return pending, oldest
