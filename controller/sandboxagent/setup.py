"""The SandboxAgent controller: what it reconciles, owns and watches, and its workers."""

from __future__ import annotations

from controller.config import ControllerConfig
from controller.runtime.informers import InformerCache
from controller.runtime.manager import Manager
from controller.runtime.queue import WorkQueue
from controller.runtime.workers import ReconcileMetrics
from controller.sandboxagent import references
from controller.sandboxagent.reconcile import FINALIZER, SandboxAgentReconciler, SandboxDeps
from controller.sandboxagent.sessions import SessionActors
from controller.substrate.events import Events
from controller.substrate.metrics import ObjectMetrics
from controller.substrate.references import indexers
from controller.substrate.watches import add_workers, track_deletions, watch_kind
from shared.api.keys import ObjectKey
from shared.kube.client import KubeClient
from shared.kube.resources import SANDBOX_AGENT

NAME = "sandboxagent"


def setup(
    manager: Manager,
    cache: InformerCache,
    metrics: ReconcileMetrics,
    *,
    kube: KubeClient,
    sessions: SessionActors,
    events: Events,
    config: ControllerConfig,
    object_metrics: ObjectMetrics | None = None,
) -> None:
    """For SandboxAgent (status-only updates ignored; every agent again each resync period),
    Owns its ActorTemplates and config Secrets, Watches the Secrets, ConfigMaps, ModelConfigs and
    WorkerPools agents reference; reads through the cache."""
    queue: WorkQueue[ObjectKey] = WorkQueue()
    r = references
    refs = indexers(r.secret_refs, r.configmap_refs, r.modelconfig_refs, config.defaults)
    watch_kind(
        cache,
        queue,
        SANDBOX_AGENT,
        "SandboxAgent",
        refs,
        resync=config.resync_period,
        owns_secrets=True,
    )
    if object_metrics is not None:
        track_deletions(cache, object_metrics, SANDBOX_AGENT, "SandboxAgent", FINALIZER)
    deps = SandboxDeps(
        kube=kube,
        sessions=sessions,
        events=events,
        config=config,
        reader=cache.reader,
        metrics=object_metrics,
    )
    add_workers(manager, NAME, SandboxAgentReconciler(deps), queue, metrics, config.workers)
