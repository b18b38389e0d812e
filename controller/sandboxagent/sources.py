"""Watches feeding the SandboxAgent queue: agents (self), their templates and config Secrets
(owner), and the Secrets, ConfigMaps, ModelConfigs and WorkerPools they reference (indexes)."""

from __future__ import annotations

from typing import Any

from controller.config import ControllerConfig
from controller.runtime.queue import WorkQueue
from controller.runtime.sources import (
    Source,
    enqueue_owner,
    enqueue_referencing,
    enqueue_self,
    ignore_status_only,
)
from controller.sandboxagent import references
from shared.api.keys import ObjectKey
from shared.kube.client import KubeClient
from shared.kube.resources import (
    ACTOR_TEMPLATE,
    CONFIG_MAP,
    MODEL_CONFIG,
    SANDBOX_AGENT,
    SECRET,
    WORKER_POOL,
    Resource,
)
from shared.kube.watching import Store, Watcher


def sandbox_sources(
    kube: KubeClient, config: ControllerConfig, queue: WorkQueue[ObjectKey]
) -> list[Source]:
    """One Source per (kind, watched namespace)."""
    store = Store(
        {
            "secrets": references.secret_refs,
            "configmaps": references.configmap_refs,
            "modelconfigs": references.modelconfig_refs,
            "workerpools": references.pool_refs(config.defaults),
        }
    )
    owner = enqueue_owner("kagent.dev", "SandboxAgent")
    namespaces: list[str | None] = list(config.namespaces) or [None]
    sources: list[Source] = []

    def add(res: Resource, mappers: list[Any], **kw: Any) -> None:
        for ns in namespaces:
            mine = res is SANDBOX_AGENT
            watcher = Watcher(kube, res, namespace=ns, store=store if mine else None, **kw)
            predicates = [ignore_status_only] if mine else []
            resync = config.resync_period if mine else None
            sources.append(Source(watcher, queue, mappers, predicates=predicates, resync=resync))

    add(SANDBOX_AGENT, [enqueue_self])
    add(ACTOR_TEMPLATE, [owner], label_selector="app.kubernetes.io/managed-by=kagent")
    add(SECRET, [owner, enqueue_referencing(store, "secrets")])
    add(CONFIG_MAP, [enqueue_referencing(store, "configmaps")])
    add(MODEL_CONFIG, [enqueue_referencing(store, "modelconfigs")])
    add(WORKER_POOL, [enqueue_referencing(store, "workerpools")])
    return sources
