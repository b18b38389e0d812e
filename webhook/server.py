"""Serve the webhook: our own AppRunners, certificate watching/rotation, SIGTERM drain.

`WebhookServer.start` compiles the rules, loads the certificate and binds both ports (HTTPS
admission with the live TLS context; plain-HTTP health/metrics). `stop` first turns ``/readyz``
red (and waits ``shutdown_delay`` so endpoints stop sending), then stops accepting and gives
in-flight reviews ``shutdown_timeout`` to finish (aiohttp's runner cleanup).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import socket
import tempfile
from pathlib import Path

from aiohttp import web

from shared.errors import InputError
from shared.policy.engine import EngineConfig, PolicyEngine
from shared.serving.site import BoundedSite
from webhook.app import make_app, make_health_app
from webhook.cabundle import KubeTarget, PublishError, publish_ca_bundle
from webhook.config import WebhookConfig
from webhook.deps import Deps, State
from webhook.metrics import WebhookMetrics
from webhook.selfsigned import SelfSignedIssuer
from webhook.tls import CertError, ReloadingCert

log = logging.getLogger(__name__)

_BACKOFF_INITIAL = 1.0
_BACKOFF_CAP = 60.0


def build_engine(cfg: WebhookConfig) -> PolicyEngine:
    """Compile the CRDs of ``--crds`` with the webhook's defaults (slow: once per process)."""
    engine_config = EngineConfig(
        default_worker_pool=cfg.default_worker_pool, default_namespace=cfg.default_namespace
    )
    return PolicyEngine.from_dir(cfg.crds, engine_config)


def _url(scheme: str, runner: web.AppRunner) -> str:
    host, port = runner.addresses[0][:2]
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}:{port}"


class WebhookServer:
    """One webhook process: `start`, then `url`/`metrics_url`, then `stop`."""

    def __init__(
        self,
        config: WebhookConfig,
        *,
        engine: PolicyEngine | None = None,
        sock: socket.socket | None = None,
        serve_health: bool = True,
    ) -> None:
        self.config = config
        self._engine = engine
        self._sock = sock
        """A pre-bound listening socket (``--workers``); else the port is bound here."""
        self._serve_health = serve_health
        """False for extra ``--workers`` processes: only the first serves health/metrics."""
        self.deps: Deps | None = None
        self.issuer: SelfSignedIssuer | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._runner: web.AppRunner | None = None
        self._health: web.AppRunner | None = None
        self.site: BoundedSite | None = None
        """The HTTPS listener (its ``listener`` counts open connections)."""
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._unpublished = False

    @property
    def cert(self) -> ReloadingCert:
        """The live serving certificate."""
        assert self.deps is not None and self.deps.state.cert is not None
        return self.deps.state.cert

    @property
    def url(self) -> str:
        """``https://host:port`` of the admission endpoints."""
        assert self._runner is not None
        return _url("https", self._runner)

    @property
    def metrics_url(self) -> str:
        """``http://host:port`` of health and metrics."""
        assert self._health is not None
        return _url("http", self._health)

    def _files(self) -> tuple[Path, Path]:
        cfg = self.config
        if cfg.self_signed:
            if cfg.cert_dir is None:
                self._tmp = tempfile.TemporaryDirectory(prefix="kagent-substrate-webhook-")
            folder = cfg.cert_dir or Path(self._tmp.name)  # type: ignore[union-attr]
            self.issuer = SelfSignedIssuer(
                folder,
                cfg.hosts,
                ca_days=cfg.ca_days,
                serving_days=cfg.serving_cert_days,
                rotate_fraction=cfg.rotate_fraction,
            )
            self.issuer.renew_ca()
            self.issuer.renew_serving()  # needed to serve at all; published by the first step
            self._unpublished = self._kube_target() is not None
            return self.issuer.cert_file, self.issuer.key_file
        if cfg.tls_cert_file is None or cfg.tls_private_key_file is None:
            raise InputError(
                "--tls-cert-file and --tls-private-key-file are required (or use --self-signed)"
            )
        return cfg.tls_cert_file, cfg.tls_private_key_file

    async def start(self) -> None:
        """Compile rules, load the certificate, bind both ports, start the watchers."""
        cfg = self.config
        engine = self._engine
        if engine is None:
            engine = await asyncio.to_thread(build_engine, cfg)
        metrics = WebhookMetrics()
        cert_file, key_file = self._files()
        cert = ReloadingCert(cert_file, key_file, on_load=metrics.set_cert_expiry)
        cert.reload()
        self.deps = Deps(cfg, engine, metrics, State(cert=cert))
        limits = cfg.limits
        if self._serve_health:
            self._health = web.AppRunner(
                make_health_app(self.deps), access_log=None, keepalive_timeout=limits.idle_timeout
            )
            await self._health.setup()
            await BoundedSite(
                self._health, cfg.bind_address, cfg.metrics_port, limits=limits
            ).start()
        self._runner = web.AppRunner(
            make_app(self.deps),
            access_log=None,
            shutdown_timeout=cfg.shutdown_timeout,
            keepalive_timeout=limits.idle_timeout,
        )
        await self._runner.setup()
        self.site = BoundedSite(
            self._runner,
            cfg.bind_address,
            cfg.port,
            limits=limits,
            ssl_context=cert.context,
            sock=self._sock,
            reuse_port=cfg.workers > 1,
        )
        await self.site.start()
        self._tasks.append(asyncio.create_task(cert.watch(cfg.cert_poll_interval, self._stop)))
        if self.issuer is not None:
            self._tasks.append(asyncio.create_task(self._rotate()))

    def _kube_target(self) -> KubeTarget | None:
        cfg = self.config
        if not cfg.in_cluster and cfg.kubeconfig is None:
            return None
        return KubeTarget(cfg.kubeconfig, cfg.in_cluster, cfg.kube_timeout)

    async def rotate_now(self) -> None:
        """One self-signed step: renew the CA if due, publish the bundle, renew the cert if due.

        A serving certificate from a new CA is issued only after the bundle holding that CA
        is published (or when there is no cluster to publish to).
        """
        assert self.issuer is not None
        cfg, issuer, target = self.config, self.issuer, self._kube_target()
        if await asyncio.to_thread(issuer.renew_ca):
            log.info("self-signed: CA created or renewed")
            self._unpublished = target is not None
        if self._unpublished and target is not None:
            await publish_ca_bundle(
                target,
                issuer.ca_bundle(),
                validating=cfg.validating_webhook_configuration,
                mutating=cfg.mutating_webhook_configuration,
            )
            self._unpublished = False
        if not self._unpublished and await asyncio.to_thread(issuer.renew_serving):
            log.info("self-signed: serving certificate renewed")
            self.cert.reload()

    async def _rotate(self) -> None:
        """Self-signed mode: `rotate_now` every poll; failures retried with capped backoff."""
        cfg = self.config
        if self._kube_target() is None:
            log.info(
                "self-signed: no kubeconfig and not in a cluster; caBundle of %s/%s is not patched",
                cfg.validating_webhook_configuration,
                cfg.mutating_webhook_configuration,
            )
        failures, wait = 0, 0.0
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), wait)
                return
            try:
                await self.rotate_now()
                failures, wait = 0, cfg.cert_poll_interval
            except (PublishError, CertError, OSError, ValueError) as exc:
                failures += 1
                wait = min(_BACKOFF_CAP, _BACKOFF_INITIAL * 2 ** (failures - 1))
                wait *= random.uniform(0.5, 1.0)
                log.warning("self-signed: %s (retry in %.1fs)", exc, wait)

    async def stop(self) -> None:
        """Turn not-ready, drain in-flight reviews, close both ports."""
        if self.deps is not None:
            self.deps.state.draining = True
        if self.config.shutdown_delay > 0:
            await asyncio.sleep(self.config.shutdown_delay)
        self._stop.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
        if self._health is not None:
            await self._health.cleanup()
        if self._tmp is not None:
            self._tmp.cleanup()


async def serve(
    config: WebhookConfig,
    *,
    sock: socket.socket | None = None,
    engine: PolicyEngine | None = None,
) -> int:
    """Start, print ``READY``, serve until SIGTERM/SIGINT, drain; return the exit code."""
    server = WebhookServer(config, sock=sock, engine=engine)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await server.start()
    except BaseException:
        await server.stop()
        raise
    print(f"READY {server.url} metrics={server.metrics_url}", flush=True)
    log.info("serving admission on %s, health and metrics on %s", server.url, server.metrics_url)
    await stop.wait()
    log.info("shutting down: draining in-flight reviews")
    await server.stop()
    return 0
