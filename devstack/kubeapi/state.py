"""Everything one server instance holds, built once and passed to handlers (no globals)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from devstack.kubeapi.admission import Admission
from devstack.kubeapi.auth import AuthTable
from devstack.kubeapi.config import KubeApiConfig
from devstack.kubeapi.crds import CrdManager
from devstack.kubeapi.faults import Faults
from devstack.kubeapi.gc import GarbageCollector
from devstack.kubeapi.registry import Registry
from devstack.kubeapi.storage import Store
from devstack.kubeapi.watch import WatchHub
from devstack.kubeapi.webhooks import WebhookCaller


@dataclass(slots=True)
class ApiState:
    """The store and every component that reads or writes it."""

    config: KubeApiConfig
    store: Store
    registry: Registry
    hub: WatchHub
    crds: CrdManager
    admission: Admission
    caller: WebhookCaller
    gc: GarbageCollector
    faults: Faults
    auth: AuthTable
    address: str = ""
    """``host:port`` once bound."""
    requests: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    """Requests served per (user, verb, resource[/subresource]); ``/devstack/requests``."""


def build_state(config: KubeApiConfig, auth: AuthTable) -> ApiState:
    """Wire a fresh state (empty store; the server restores a snapshot into it)."""
    store = Store(history_size=config.history_size)
    registry = Registry()
    crds = CrdManager(store, registry)
    caller = WebhookCaller(
        service_map=dict(config.webhook_services), default_timeout=config.webhook_timeout
    )
    return ApiState(
        config=config,
        store=store,
        registry=registry,
        hub=WatchHub(store),
        crds=crds,
        admission=Admission(store, crds.schemas, caller),
        caller=caller,
        gc=GarbageCollector(store, registry),
        faults=Faults(),
        auth=auth,
    )
