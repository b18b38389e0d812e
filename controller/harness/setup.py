"""The AgentHarness controller: what it reconciles, owns and watches, and its workers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from controller.config import ControllerConfig
from controller.harness import references
from controller.harness.reconcile import FINALIZER, HarnessDeps, HarnessReconciler
from controller.runtime.informers import InformerCache
from controller.runtime.manager import Manager
from controller.runtime.queue import WorkQueue
from controller.runtime.workers import ReconcileMetrics
from controller.substrate.actor import AteApi
from controller.substrate.events import Events
from controller.substrate.metrics import ObjectMetrics
from controller.substrate.references import indexers
from controller.substrate.watches import add_workers, track_deletions, watch_kind
from shared.api.keys import ObjectKey
from shared.kube.client import KubeClient
from shared.kube.resources import AGENT_HARNESS

NAME = "agentharness"


def setup(
    manager: Manager,
    cache: InformerCache,
    metrics: ReconcileMetrics,
    *,
    kube: KubeClient,
    ate: AteApi,
    probe: Callable[[str], Awaitable[bool]],
    events: Events,
    config: ControllerConfig,
    object_metrics: ObjectMetrics | None = None,
) -> None:
    """For AgentHarness (status-only updates ignored), Owns its ActorTemplates, Watches the
    Secrets, ConfigMaps, ModelConfigs and WorkerPools harnesses reference; reads through the
    cache."""
    queue: WorkQueue[ObjectKey] = WorkQueue()
    r = references
    refs = indexers(r.secret_refs, r.configmap_refs, r.modelconfig_refs, config.defaults)
    watch_kind(cache, queue, AGENT_HARNESS, "AgentHarness", refs)
    if object_metrics is not None:
        track_deletions(cache, object_metrics, AGENT_HARNESS, "AgentHarness", FINALIZER)
    deps = HarnessDeps(
        kube=kube,
        ate=ate,
        probe=probe,
        events=events,
        config=config,
        reader=cache.reader,
        metrics=object_metrics,
    )
    add_workers(manager, NAME, HarnessReconciler(deps), queue, metrics, config.workers)
