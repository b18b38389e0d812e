"""What a substrate kind's controller declares (controller-runtime's builder): For the kind,
Owns its ActorTemplates (and optionally its Secrets), Watches the objects it references through
its named indexes; and the leader-gated workers that drain its queue."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from controller.runtime.informers import InformerCache
from controller.runtime.manager import Manager
from controller.runtime.queue import WorkQueue
from controller.runtime.result import Reconciler
from controller.runtime.sources import enqueue_owner, enqueue_self, ignore_status_only
from controller.runtime.workers import ReconcileMetrics, WorkerConfig, Workers
from controller.substrate.metrics import ObjectMetrics
from shared.api.keys import ObjectKey
from shared.kube.resources import (
    ACTOR_TEMPLATE,
    CONFIG_MAP,
    MODEL_CONFIG,
    SECRET,
    WORKER_POOL,
    Resource,
)
from shared.kube.watching import IndexFunc

MANAGED: Final = "app.kubernetes.io/managed-by=kagent"
"""The label on every ActorTemplate the controller writes (its ActorTemplate watch selects it)."""
REFERENCED: Final = (
    (SECRET, "secrets"),
    (CONFIG_MAP, "configmaps"),
    (MODEL_CONFIG, "modelconfigs"),
    (WORKER_POOL, "workerpools"),
)
"""The referenced kinds and the index (on the kind's store) that maps each back."""


def watch_kind(
    cache: InformerCache,
    queue: WorkQueue[ObjectKey],
    res: Resource,
    kind: str,
    indexers: Mapping[str, IndexFunc],
    *,
    resync: float | None = None,
    owns_secrets: bool = False,
) -> None:
    """Register ``kind``'s indexes and watches on the shared cache, feeding ``queue``.

    ``indexers`` must name every index of `REFERENCED`; ``resync`` re-enqueues every object
    of the kind periodically; ``owns_secrets`` maps a Secret's controller owner back too.
    """
    for name, fn in indexers.items():
        cache.add_indexer(res, name, fn)
    cache.watch(res, queue, [enqueue_self], predicates=[ignore_status_only], resync=resync)
    owner = enqueue_owner("kagent.dev", kind)
    cache.watch(ACTOR_TEMPLATE, queue, [owner], label_selector=MANAGED)
    for ref, index in REFERENCED:
        mappers = [cache.enqueue_referencing(res, index)]
        if ref is SECRET and owns_secrets:
            mappers.insert(0, owner)
        cache.watch(ref, queue, mappers)


def track_deletions(
    cache: InformerCache, metrics: ObjectMetrics, res: Resource, kind: str, finalizer: str
) -> None:
    """Report ``kind``'s objects being deleted with ``finalizer`` still on them, from the
    kind's informers (registered by `watch_kind` first; every replica runs them)."""
    informers = cache.informers(res)
    metrics.track(kind, finalizer, lambda: [o for i in informers for o in i.store.objects()])


def add_workers(
    manager: Manager,
    name: str,
    reconciler: Reconciler,
    queue: WorkQueue[ObjectKey],
    metrics: ReconcileMetrics,
    workers: int,
) -> None:
    """Reconcile ``queue`` with ``workers`` workers while this replica leads."""
    runner = Workers(name, reconciler, queue, metrics, WorkerConfig(workers=workers))
    manager.add_leader(name, runner.run, runner.stop)
