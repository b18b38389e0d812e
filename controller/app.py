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

from prometheus_client import CollectorRegistry, ProcessCollector

from controller.config import ControllerConfig
from controller.gateway.access import Gateway, GatewaySettings
from controller.gateway.app import gateway_server
from controller.gateway.auth import Authenticator
from controller.gateway.metrics import GatewayMetrics
from controller.gateway.refcount import SessionTracker
from controller.harness import setup as harness
from controller.runtime.health import HttpServer, make_app
from controller.runtime.informers import InformerCache
from controller.runtime.leader import (
    LeaderElectionConfig,
    LeaderElector,
    LeaderLost,
    default_identity,
)
from controller.runtime.manager import Manager
from controller.runtime.recorder import EventRecorder, RecorderConfig
from controller.runtime.workers import ReconcileMetrics
from controller.sandboxagent import setup as sandboxagent
from controller.sandboxagent.sessions import SessionActors
from controller.substrate.events import recorder_events
from controller.substrate.metrics import ObjectMetrics
from controller.substrate.router_probe import RouterProbe
from shared.ateapi import AteApiClient, AteApiConfig
from shared.kube.client import KubeClient, KubeClientConfig, connect

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


def _gateway(
    manager: Manager,
    config: ControllerConfig,
    kube: KubeClient,
    registry: CollectorRegistry,
    sessions: SessionActors | None,
) -> tuple[HttpServer, asyncio.Event] | None:
    """The gateway server (every replica; ``--gateway-bind ''`` disables it): the server and
    its "bound" event."""
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


async def run(config: ControllerConfig) -> int:
    """Run the controller until SIGTERM/SIGINT; 1 when leadership was lost."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)  # process_* (memory, CPU, start time) for dashboards
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
    reconcile_metrics = ReconcileMetrics(registry)
    object_metrics = ObjectMetrics(registry)
    cache = InformerCache(kube, config.namespaces)
    sessions: SessionActors | None = None
    if config.ate_api.endpoint:
        ate = AteApiClient(ate_config(config), registry=registry)
        probe = RouterProbe(config.router_url)
        closers += [ate.close, probe.close]
        events = recorder_events(
            EventRecorder(kube, RecorderConfig(controller=CONTROLLER_NAME, instance=identity))
        )
        harness.setup(
            manager,
            cache,
            reconcile_metrics,
            kube=kube,
            ate=ate,
            probe=probe,
            events=events,
            config=config,
            object_metrics=object_metrics,
        )
        sessions = SessionActors(ate, probe, ensure_timeout=config.session_ensure_timeout)
        sandboxagent.setup(
            manager,
            cache,
            reconcile_metrics,
            kube=kube,
            sessions=sessions,
            events=events,
            config=config,
            object_metrics=object_metrics,
        )
    else:
        log.warning("AgentHarness controller disabled: set --substrate-ate-api-endpoint")
    for name, run_cache, synced in cache.runnables():
        manager.add_cache(name, run_cache, synced)
    if not config.sandbox_runtime_image:
        log.warning(
            "--sandbox-runtime-image is not set: every substrate SandboxAgent reports "
            "Accepted=False until it is (digest-pinned Go ADK image; Helm: "
            "controller.sandboxRuntimeImage)"
        )
    gateway = _gateway(manager, config, kube, registry, sessions)
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
