"""`Simulator`: composes the store, `Control`, the TLS gRPC server (behind a relay), the router,
the /debug view and the template controller, and starts/stops them together.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from aiohttp import web

from devstack.substrate.boot import Boots
from devstack.substrate.faults import Faults
from devstack.substrate.grpc_service import ControlService
from devstack.substrate.machine import Control, Timing
from devstack.substrate.relay import Relay
from devstack.substrate.state import Store, TemplateInfo
from devstack.substrate.workload import Workloads
from shared.certs import KeyPair, make_ca, make_serving_cert

DEFAULT_TLS_HOSTS = ("127.0.0.1", "localhost", "api.ate-system.svc")


@dataclass(slots=True)
class SimulatorConfig:
    """Everything the simulator needs; the CLI fills it from flags."""

    host: str = "127.0.0.1"
    grpc_port: int = 0
    router_port: int = 0
    debug_port: int = 0
    serve_router: bool = True
    serve_debug: bool = True
    tls_hosts: tuple[str, ...] = DEFAULT_TLS_HOSTS
    ca_out: Path | None = None
    token_file: Path | None = None
    """When set, every RPC must carry ``Bearer <contents>`` (re-read per call)."""
    pool: tuple[str, str] = ("ate-system", "default")
    """WorkerPool (namespace, name) used without a kubeconfig."""
    workers: int = 0
    """Workers of ``pool`` without a kubeconfig."""
    templates: tuple[tuple[str, str], ...] = ()
    """Templates (namespace, name) known without a kubeconfig, bound to ``pool``."""
    timing: Timing = field(default_factory=Timing)
    faults: Faults = field(default_factory=Faults)
    kubeconfig: Path | None = None
    golden_warmup: float = 0.2
    """Seconds between the golden actor's resume and its snapshot (reference: 20)."""
    template_workers: int = 4
    """ActorTemplates reconciled at once (never one key twice at a time), so that the stand-in's
    golden boots and snapshots are not what a benchmark of our controller measures."""


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where the started simulator listens."""

    grpc: str
    router: str
    debug: str
    ca_pem: bytes


class Simulator:
    """The whole simulator in one event loop."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.store = Store()
        self.boots = Boots()
        self.control = Control(
            self.store, timing=config.timing, faults=config.faults, boots=self.boots
        )
        self.workloads = Workloads()
        self.template_phases: dict[str, str] = {}
        self.ca: KeyPair = make_ca("substrate-sim-ca")
        self.relay: Relay | None = None
        self.service: ControlService | None = None
        self._grpc: grpc.aio.Server | None = None
        self._runners: list[web.AppRunner] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.endpoints: Endpoints | None = None
        pool_ns, pool_name = config.pool
        for namespace, name in config.templates:
            self.control.put_template(TemplateInfo(namespace, name, pool_ns, pool_name))
        if config.workers:
            self.control.set_pool_capacity(pool_ns, pool_name, config.workers)

    def _token(self) -> str | None:
        path = self.config.token_file
        if path is None:
            return None
        try:
            return path.read_text().strip() or None
        except OSError:
            return None

    async def start(self) -> Endpoints:
        """Bind every listener (port 0 = free port) and return the endpoints."""
        cfg = self.config
        serving = make_serving_cert(self.ca, list(cfg.tls_hosts))
        if cfg.ca_out is not None:
            cfg.ca_out.write_bytes(self.ca.cert_pem)
        server = grpc.aio.server()
        backend_port = server.add_secure_port(
            "127.0.0.1:0", grpc.ssl_server_credentials([(serving.key_pem, serving.cert_pem)])
        )
        self.relay = Relay("127.0.0.1", backend_port)
        self.service = ControlService(
            self.control,
            expected_token=self._token if cfg.token_file else None,
            on_drop=self.relay.drop_all,
        )
        server.add_generic_rpc_handlers((self.service.handler(),))
        await server.start()
        self._grpc = server
        grpc_port = await self.relay.start(cfg.host, cfg.grpc_port)
        router_url = debug_url = ""
        if cfg.serve_router:
            from devstack.substrate.router import make_router_app

            router_url = await self._serve(make_router_app(self), cfg.router_port)
        if cfg.serve_debug:
            from devstack.substrate.debug import make_debug_app

            debug_url = await self._serve(make_debug_app(self), cfg.debug_port) + "/debug"
        if cfg.kubeconfig is not None:
            from devstack.substrate.kubewatch import run_template_controller

            self._tasks.append(asyncio.create_task(run_template_controller(self, cfg.kubeconfig)))
        host = f"[{cfg.host}]" if ":" in cfg.host else cfg.host
        self.endpoints = Endpoints(f"{host}:{grpc_port}", router_url, debug_url, self.ca.cert_pem)
        return self.endpoints

    async def _serve(self, app: web.Application, port: int) -> str:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.config.host, port)
        await site.start()
        self._runners.append(runner)
        bound = runner.addresses[-1][1]
        host = f"[{self.config.host}]" if ":" in self.config.host else self.config.host
        return f"http://{host}:{bound}"

    async def stop(self) -> None:
        """Stop everything, in reverse order of start."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for runner in reversed(self._runners):
            await runner.cleanup()
        if self.relay is not None:
            await self.relay.close()
        if self._grpc is not None:
            await self._grpc.stop(grace=0.5)
