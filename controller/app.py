"""The controller process: build every dependency once, run until SIGTERM (composition root).

Health and metrics always serve; only the reconcile workers wait for leadership. ate-api being
unreachable at start does not stop the process: harnesses report ``SubstrateUnavailable`` and
are retried.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CollectorRegistry

from controller.config import ControllerConfig
from controller.harness import references
from controller.harness.reconcile import HarnessDeps, HarnessReconciler
from controller.runtime.cache import CachedReader
from controller.runtime.health import HttpServer, make_app
from controller.runtime.leader import (
    LeaderElectionConfig,
    LeaderElector,
    LeaderLost,
    default_identity,
)
from controller.runtime.manager import Manager
from controller.runtime.queue import WorkQueue
from controller.runtime.recorder import EventRecorder, RecorderConfig
from controller.runtime.sources import (
    Source,
    enqueue_owner,
    enqueue_referencing,
    enqueue_self,
    ignore_status_only,
)
from controller.runtime.workers import ReconcileMetrics, WorkerConfig, Workers
from controller.substrate.events import Events, recorder_events
from controller.substrate.router_probe import RouterProbe
from shared.api.keys import ObjectKey
from shared.ateapi import AteApiClient, AteApiConfig
from shared.kube.client import KubeClient, KubeClientConfig, connect
from shared.kube.resources import (
    ACTOR_TEMPLATE,
    AGENT_HARNESS,
    CONFIG_MAP,
    MODEL_CONFIG,
    SECRET,
    WORKER_POOL,
    Resource,
)
from shared.kube.watching import Store, Watcher

log = logging.getLogger(__name__)
CONTROLLER_NAME = "kagent.dev/substrate-controller"


def split_bind(bind: str) -> tuple[str, int]:
    """``:8080`` -> (``0.0.0.0``, 8080); ``127.0.0.1:0`` -> (``127.0.0.1``, 0)."""
    host, _, port = bind.rpartition(":")
    return host or "0.0.0.0", int(port)


def ate_config(config: ControllerConfig) -> AteApiConfig:
    """The ate-api client settings from the controller flags."""
    from pathlib import Path

    a = config.ate_api
    return AteApiConfig(
        endpoint=a.endpoint,
        ca_file=Path(a.ca_file) if a.ca_file else None,
        token_file=Path(a.token_file) if a.token_file else None,
        insecure=a.insecure,
        dial_timeout=a.dial_timeout,
        call_timeout=a.call_timeout,
    )


def _sources(
    kube: KubeClient, config: ControllerConfig, queue: WorkQueue[ObjectKey]
) -> list[Source]:
    """Watches: harnesses (self), templates (owner), referenced kinds (through indexes)."""
    store = Store(
        {
            "secrets": references.secret_refs,
            "configmaps": references.configmap_refs,
            "modelconfigs": references.modelconfig_refs,
            "workerpools": references.pool_refs(config.defaults),
        }
    )
    namespaces: list[str | None] = list(config.namespaces) or [None]
    sources: list[Source] = []

    def add(res: Resource, mappers: list[Any], **kw: Any) -> None:
        for ns in namespaces:
            watcher = Watcher(
                kube, res, namespace=ns, store=store if res is AGENT_HARNESS else None, **kw
            )
            predicates = [ignore_status_only] if res is AGENT_HARNESS else []
            sources.append(Source(watcher, queue, mappers, predicates=predicates))

    add(AGENT_HARNESS, [enqueue_self])
    add(
        ACTOR_TEMPLATE,
        [enqueue_owner("kagent.dev", "AgentHarness")],
        label_selector="app.kubernetes.io/managed-by=kagent",
    )
    add(WORKER_POOL, [enqueue_referencing(store, "workerpools")])
    add(SECRET, [enqueue_referencing(store, "secrets")])
    add(CONFIG_MAP, [enqueue_referencing(store, "configmaps")])
    add(MODEL_CONFIG, [enqueue_referencing(store, "modelconfigs")])
    return sources


def _sandboxagents_and_gateway(
    manager: Manager,
    config: ControllerConfig,
    kube: KubeClient,
    registry: CollectorRegistry,
    ate: AteApiClient | None,
    events: Events | None,
    reconcile_metrics: ReconcileMetrics,
) -> tuple[HttpServer, asyncio.Event] | None:
    """SandboxAgent sources + workers (leader-gated, needs ate-api) and the gateway server
    (every replica; ``--gateway-bind ''`` disables it): the server and its "bound" event."""
    from controller.gateway.access import Gateway, GatewaySettings
    from controller.gateway.app import gateway_server
    from controller.gateway.auth import Authenticator
    from controller.gateway.metrics import GatewayMetrics
    from controller.gateway.refcount import SessionTracker
    from controller.sandboxagent.reconcile import SandboxAgentReconciler, SandboxDeps
    from controller.sandboxagent.sessions import SessionActors
    from controller.sandboxagent.sources import sandbox_sources

    sessions: SessionActors | None = None
    if ate is not None and events is not None:
        probe = RouterProbe(config.router_url)
        manager.add_server("router-probe", _noop, probe.close)
        sessions = SessionActors(ate, probe, ensure_timeout=config.session_ensure_timeout)
        queue: WorkQueue[ObjectKey] = WorkQueue()
        reader = CachedReader(kube)
        for i, source in enumerate(sandbox_sources(kube, config, queue)):
            manager.add_cache(f"sandboxagent-source-{i}", source.run, source.synced)
            reader.register(source.watcher)
        deps = SandboxDeps(
            kube=kube, sessions=sessions, events=events, config=config, reader=reader
        )
        workers = Workers(
            "sandboxagent",
            SandboxAgentReconciler(deps),
            queue,
            reconcile_metrics,
            WorkerConfig(workers=config.workers),
        )
        manager.add_leader("sandboxagent", workers.run, workers.stop)
    if not config.gateway_bind.strip():
        return None
    metrics = GatewayMetrics(registry)
    tracker = None
    if sessions is not None:
        tracker = SessionTracker(
            sessions.suspend,
            idle_delay=config.session_idle_suspend,
            on_change=metrics.sessions_active.set,
        )
    gateway = Gateway(
        kube=kube,
        auth=Authenticator(kube),
        metrics=metrics,
        settings=GatewaySettings(
            router_url=config.router_url,
            allowed_origins=config.gateway_allowed_origins,
            idle_suspend=config.session_idle_suspend,
            request_timeout=config.gateway_request_timeout,
            ensure_timeout=config.session_ensure_timeout,
        ),
        sessions=sessions,
        tracker=tracker,
    )
    server = gateway_server(gateway, split_bind(config.gateway_bind), config.limits)
    bound = asyncio.Event()

    async def start() -> None:
        await server.start()
        bound.set()

    manager.add_server("gateway", start, server.stop)
    return server, bound


async def _noop() -> None:
    return None


async def run(config: ControllerConfig) -> int:
    """Run the controller until SIGTERM/SIGINT; 1 when leadership was lost."""
    registry = CollectorRegistry()
    kube = await connect(
        KubeClientConfig(kubeconfig=str(config.kubeconfig) if config.kubeconfig else None)
    )
    identity = default_identity()
    elector = (
        LeaderElector(
            kube,
            LeaderElectionConfig(
                config.leader.name,
                config.leader.namespace,
                identity=identity,
                lease_duration=config.leader.lease_duration,
                renew_deadline=config.leader.renew_deadline,
                retry_period=config.leader.retry_period,
            ),
        )
        if config.leader.enabled
        else None
    )
    manager = Manager(elector=elector)
    limits = config.limits
    health = HttpServer(
        make_app(ready=manager.ready), *split_bind(config.health_bind), limits=limits
    )
    metrics = HttpServer(
        make_app(registry=registry), *split_bind(config.metrics_bind), limits=limits
    )
    serving = asyncio.Event()

    async def start_servers() -> None:
        await health.start()
        await metrics.start()
        serving.set()

    async def stop_servers() -> None:
        await metrics.stop()
        await health.stop()

    manager.add_server("http", start_servers, stop_servers)
    closers: list[Callable[[], Awaitable[None]]] = [kube.close]
    ate_client: AteApiClient | None = None
    reconcile_metrics = ReconcileMetrics(registry)
    events: Events | None = None
    if config.ate_api.endpoint:
        ate = AteApiClient(ate_config(config), registry=registry)
        probe = RouterProbe(config.router_url)
        closers += [ate.close, probe.close]
        recorder = EventRecorder(
            kube, RecorderConfig(controller=CONTROLLER_NAME, instance=identity)
        )
        reader = CachedReader(kube)
        deps = HarnessDeps(
            kube=kube,
            ate=ate,
            probe=probe,
            events=recorder_events(recorder),
            config=config,
            reader=reader,
        )
        queue: WorkQueue[ObjectKey] = WorkQueue()
        for i, source in enumerate(_sources(kube, config, queue)):
            manager.add_cache(f"source-{i}", source.run, source.synced)
            reader.register(source.watcher)
        workers = Workers(
            "agentharness",
            HarnessReconciler(deps),
            queue,
            reconcile_metrics,
            WorkerConfig(workers=config.workers),
        )
        manager.add_leader("agentharness", workers.run, workers.stop)
        ate_client, events = ate, recorder_events(recorder)
    else:
        log.warning("AgentHarness controller disabled: set --substrate-ate-api-endpoint")
    if not config.sandbox_runtime_image:
        log.warning(
            "--sandbox-runtime-image is not set: every substrate SandboxAgent reports "
            "Accepted=False until it is (digest-pinned Go ADK image; Helm: "
            "controller.sandboxRuntimeImage)"
        )
    gateway = _sandboxagents_and_gateway(
        manager, config, kube, registry, ate_client, events, reconcile_metrics
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    async def announce() -> None:
        await serving.wait()
        gw = ""
        if gateway is not None:
            await gateway[1].wait()
            gw = f" gateway={gateway[0].url}"
        print(
            f"READY health={health.url} metrics={metrics.url}{gw} identity={identity}", flush=True
        )

    announcer = asyncio.create_task(announce())
    try:
        await manager.run(stop)
        return 0
    except LeaderLost as exc:
        log.error("leadership lost; exiting so a new leader takes over: %s", exc)
        return 1
    finally:
        announcer.cancel()
        for close in reversed(closers):
            try:
                await close()
            except Exception as exc:  # shutdown must finish; report and continue
                print(f"kagent-substrate controller: error while closing: {exc}", file=sys.stderr)
