"""ControllerConfig: every setting of `kagent-substrate controller`, from flags and env vars.

Each flag can also be set by an environment variable: ``KAGENT_SUBSTRATE_CONTROLLER_`` plus the
flag name upper-cased with ``-`` as ``_`` (``--substrate-ate-api-endpoint`` <-
``KAGENT_SUBSTRATE_CONTROLLER_SUBSTRATE_ATE_API_ENDPOINT``), like the webhook's
``KAGENT_SUBSTRATE_WEBHOOK_*``; the prefix keeps a stray ``NAMESPACE`` or ``WORKERS`` in a pod's
environment from changing the controller silently. An explicit flag wins over the environment. Durations accept Go syntax (``30s``, ``5m``, ``1h30m``).
"""

from __future__ import annotations

import argparse
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from controller.substrate.defaults import SubstrateDefaults
from shared.errors import InputError
from shared.serving.limits import (
    DEFAULT_HEADER_TIMEOUT,
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS,
    ListenerLimits,
)

DEFAULT_KAGENT_URL: Final = "http://kagent-controller.kagent:8083"


def default_kagent_url(env: Mapping[str, str]) -> str:
    """The reference's ``KAGENT_URL``: ``http://<KAGENT_CONTROLLER_NAME>.<KAGENT_NAMESPACE>:8083``."""
    name = env.get("KAGENT_CONTROLLER_NAME", "").strip() or "kagent-controller"
    namespace = env.get("KAGENT_NAMESPACE", "").strip() or "kagent"
    return f"http://{name}.{namespace}:8083"


def otel_env(env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The ``OTEL_*`` variables of ``env`` with a value, sorted by name."""
    return tuple(sorted((k, v) for k, v in env.items() if k.startswith("OTEL_") and v.strip()))


@dataclass(frozen=True, slots=True)
class AteApiSettings:
    """How to reach ate-api (gRPC)."""

    endpoint: str = ""
    """gRPC target, e.g. ``dns:///api.ate-system.svc:443``; empty disables the substrate backend."""
    token_file: str = ""
    """Bearer token file (a projected ServiceAccount token), re-read on every call."""
    ca_file: str = ""
    """CA bundle to verify the ate-api certificate (system roots when empty)."""
    insecure: bool = False
    """Skip certificate verification (the connection stays TLS)."""
    dial_timeout: float = 10.0
    """Seconds to wait for the first connection."""
    call_timeout: float = 30.0
    """Deadline of every RPC, in seconds."""


@dataclass(frozen=True, slots=True)
class LeaderElection:
    """Lease-based leader election (coordination.k8s.io/v1)."""

    enabled: bool = True
    """Only the leader reconciles; other replicas stand by (health and gateway still serve)."""
    namespace: str = "kagent"
    """Namespace of the Lease."""
    name: str = "kagent-substrate-controller"
    """Name of the Lease."""
    lease_duration: float = 15.0
    """Seconds a non-renewed lease stays valid."""
    renew_deadline: float = 10.0
    """Seconds the leader keeps trying to renew before it gives up leadership."""
    retry_period: float = 2.0
    """Seconds between acquire/renew attempts."""


@dataclass(frozen=True, slots=True)
class ControllerConfig:
    """Everything the controller process needs."""

    kubeconfig: Path | None = None
    """Kubeconfig path; in-cluster configuration when unset."""
    namespaces: tuple[str, ...] = ()
    """Namespaces to watch; all when empty."""
    metrics_bind: str = ":8080"
    """host:port of /metrics (plain HTTP)."""
    health_bind: str = ":8081"
    """host:port of /healthz and /readyz (plain HTTP)."""
    gateway_bind: str = ":8083"
    """host:port of the session/gateway HTTP API; empty disables it."""
    workers: int = 4
    """Concurrent reconciles per controller (one per object at a time)."""
    log_format: str = "text"
    """text or json."""
    log_level: str = "INFO"
    """Python log level name."""
    ate_api: AteApiSettings = field(default_factory=AteApiSettings)
    """ate-api connection settings."""
    router_url: str = ""
    """atenet-router base URL (default http://atenet-router.ate-system.svc:80)."""
    defaults: SubstrateDefaults = field(default_factory=SubstrateDefaults)
    """Generated-template defaults (pause image, runsc, default WorkerPool)."""
    leader: LeaderElection = field(default_factory=LeaderElection)
    """Leader election settings."""
    resync_period: float = 300.0
    """Seconds between resyncs of Ready objects."""
    not_ready_requeue: float = 10.0
    """Seconds before re-checking an object that is converging."""
    no_free_workers_requeue: float = 30.0
    """Fixed requeue when the WorkerPool has no free worker."""
    delete_timeout: float = 300.0
    """Seconds after which a stuck deletion reports DeleteTimeout (it keeps retrying)."""
    sandbox_runtime_image: str = ""
    """Digest-pinned Go ADK image for SandboxAgent actors; no default (agents report it)."""
    kagent_url: str = DEFAULT_KAGENT_URL
    """``KAGENT_URL`` given to SandboxAgent actors (kagent's controller API)."""
    actor_otel_env: tuple[tuple[str, str], ...] = ()
    """The controller's own non-empty ``OTEL_*`` variables, copied into SandboxAgent actors."""
    session_idle_suspend: float = 30.0
    """Seconds a SandboxAgent session actor stays running after its last request ends."""
    session_ensure_timeout: float = 120.0
    """Seconds a session may take to become RUNNING and reachable before the request fails."""
    gateway_allowed_origins: tuple[str, ...] = ()
    """Browser Origins the gateway accepts besides same-origin (``*``: any)."""
    gateway_request_timeout: float = 300.0
    """Seconds without upstream bytes before a proxied gateway request fails."""
    header_timeout: float = DEFAULT_HEADER_TIMEOUT
    """Seconds from accept until a connection's first request headers are in, per listener."""
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    """Seconds a kept-alive connection may wait for its next request."""
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    """Open connections per listener (gateway, health, metrics)."""

    @property
    def limits(self) -> ListenerLimits:
        """What every listener of the controller bounds."""
        return ListenerLimits(self.header_timeout, self.idle_timeout, self.max_connections)


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(text: str, flag: str) -> float:
    """Seconds from ``90``, ``30s``, ``5m``, ``1h30m``, ``500ms``."""
    s = text.strip()
    try:
        return float(s)
    except ValueError:
        pass
    total, pos = 0.0, 0
    for m in _DURATION_PART.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if s and pos == len(s):
        return total
    raise InputError(f"{flag}: invalid duration {text!r}; use e.g. 30s, 5m or 1h30m")


ENV_PREFIX = "KAGENT_SUBSTRATE_CONTROLLER_"


def _flag(parser: argparse.ArgumentParser, name: str, env: Mapping[str, str], **kw: object) -> None:
    env_name = ENV_PREFIX + name.lstrip("-").upper().replace("-", "_")
    default = kw.pop("default", None)
    if env.get(env_name, "").strip():
        default = env[env_name].strip()
        if kw.get("action") == "store_true":
            default = default.lower() in ("1", "true", "yes")
        elif kw.get("action") == "append":
            default = [v.strip() for v in default.split(",") if v.strip()]
    help_text = str(kw.pop("help", ""))
    parser.add_argument(name, default=default, help=f"{help_text} [env {env_name}]", **kw)  # type: ignore[arg-type]


def build_parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    """All controller flags; defaults come from ``env`` when set there."""
    d, a, le = SubstrateDefaults(), AteApiSettings(), LeaderElection()
    p = argparse.ArgumentParser(
        prog="kagent-substrate controller",
        description="Reconcile AgentHarness and SandboxAgent (runtime/platform substrate) onto Agent Substrate.",
    )
    f = functools.partial(_flag, p, env=env)
    f("--kubeconfig", help="kubeconfig path (in-cluster config when unset)")
    f(
        "--namespace",
        action="append",
        default=[],
        help="namespace to watch, repeatable (default: all)",
    )
    f("--metrics-bind", default=":8080", help="host:port for /metrics")
    f("--health-bind", default=":8081", help="host:port for /healthz and /readyz")
    f("--gateway-bind", default=":8083", help="host:port for the session/gateway API ('' disables)")
    f("--workers", default="4", help="concurrent reconciles per controller")
    f(
        "--header-timeout",
        default=f"{DEFAULT_HEADER_TIMEOUT:g}s",
        help="time a connection gets from accept to complete its first request's headers",
    )
    f(
        "--idle-timeout",
        default=f"{DEFAULT_IDLE_TIMEOUT:g}s",
        help="time a kept-alive connection may wait for its next request",
    )
    f(
        "--max-connections",
        default=str(DEFAULT_MAX_CONNECTIONS),
        help="open connections per listener; at the cap the oldest not yet sending a request is closed",
    )
    f("--log-format", default="text", choices=["text", "json"], help="log format")
    f("--log-level", default="INFO", help="log level (DEBUG, INFO, WARNING, ERROR)")
    f("--leader-elect", default="true", help="enable Lease leader election (true/false)")
    f("--leader-election-namespace", default=le.namespace, help="namespace of the leader Lease")
    f("--leader-election-id", default=le.name, help="name of the leader Lease")
    f("--lease-duration", default="15s", help="leader lease duration")
    f("--renew-deadline", default="10s", help="leader renew deadline")
    f("--retry-period", default="2s", help="leader retry period")
    f(
        "--substrate-ate-api-endpoint",
        default=a.endpoint,
        help="ate-api gRPC target, e.g. dns:///api.ate-system.svc:443",
    )
    f("--substrate-ate-api-token-file", default=a.token_file, help="bearer token file for ate-api")
    f(
        "--substrate-ate-api-ca-file",
        default=a.ca_file,
        help="CA bundle that signs the ate-api certificate",
    )
    f(
        "--substrate-ate-api-insecure",
        default="false",
        help="skip ate-api certificate verification (still TLS)",
    )
    f("--substrate-dial-timeout", default="10s", help="ate-api dial timeout")
    f("--substrate-call-timeout", default="30s", help="ate-api per-call deadline")
    f(
        "--substrate-atenet-router-url",
        default="",
        help="atenet-router URL (default http://atenet-router.ate-system.svc:80)",
    )
    f(
        "--substrate-default-workerpool-namespace",
        default=env.get("KAGENT_NAMESPACE", "") or d.worker_pool_namespace,
        help="namespace of the default WorkerPool",
    )
    f(
        "--substrate-default-workerpool-name",
        default=d.worker_pool_name,
        help="name of the default WorkerPool",
    )
    f("--substrate-pause-image", default=d.pause_image, help="digest-pinned pause image")
    f("--substrate-runsc-amd64-url", default=d.runsc_amd64_url, help="runsc URL for amd64")
    f(
        "--substrate-runsc-amd64-sha256",
        default=d.runsc_amd64_sha256,
        help="runsc SHA-256 for amd64",
    )
    f("--substrate-runsc-arm64-url", default=d.runsc_arm64_url, help="runsc URL for arm64")
    f(
        "--substrate-runsc-arm64-sha256",
        default=d.runsc_arm64_sha256,
        help="runsc SHA-256 for arm64",
    )
    f(
        "--sandbox-runtime-image",
        default="",
        help="digest-pinned Go ADK image for SandboxAgent actors (no default: without it "
        "SandboxAgents report Accepted=False naming this flag)",
    )
    f(
        "--kagent-url",
        default=default_kagent_url(env),
        help="KAGENT_URL given to SandboxAgent actors (default "
        "http://<KAGENT_CONTROLLER_NAME|kagent-controller>.<KAGENT_NAMESPACE|kagent>:8083)",
    )
    f(
        "--session-idle-suspend",
        default="30s",
        help="suspend a session actor this long after its last request ends",
    )
    f(
        "--session-ensure-timeout",
        default="2m",
        help="deadline for a session actor to be RUNNING and reachable",
    )
    f(
        "--gateway-allowed-origins",
        default="",
        help="comma-separated browser Origins allowed besides same-origin ('*': any)",
    )
    f(
        "--gateway-request-timeout",
        default="5m",
        help="fail a proxied request after this long without upstream bytes",
    )
    f("--resync-period", default="5m", help="resync period of Ready objects")
    f("--not-ready-requeue", default="10s", help="requeue delay while an object converges")
    f(
        "--no-free-workers-requeue",
        default="30s",
        help="fixed requeue delay when the WorkerPool is full",
    )
    f(
        "--delete-timeout",
        default="5m",
        help="report DeleteTimeout after this long (cleanup keeps retrying)",
    )
    return p


def _positive_seconds(text: str, flag: str) -> float:
    value = parse_duration(text, flag)
    if value <= 0:
        raise InputError(f"{flag}: must be more than 0, got {text!r}")
    return value


def _positive_int(text: str, flag: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"{flag}: expected a positive integer, got {text!r}") from None
    if value < 1:
        raise InputError(f"{flag}: must be at least 1, got {text!r}")
    return value


def _bool(text: str, flag: str) -> bool:
    value = str(text).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise InputError(f"{flag}: expected true or false, got {text!r}")


def parse_config(argv: Sequence[str], env: Mapping[str, str]) -> ControllerConfig:
    """Flags + env -> ControllerConfig; raises `InputError` naming the flag and the fix."""
    ns = build_parser(env).parse_args(list(argv))
    try:
        workers = int(ns.workers)
    except ValueError:
        raise InputError(f"--workers: expected a positive integer, got {ns.workers!r}") from None
    if workers < 1:
        raise InputError("--workers: must be at least 1")
    for image_flag, image in (
        ("--substrate-pause-image", ns.substrate_pause_image),
        ("--sandbox-runtime-image", ns.sandbox_runtime_image),
    ):
        if image and "@sha256:" not in image:
            raise InputError(f"{image_flag}: {image!r} must be pinned with a digest (@sha256:...)")
    leader = LeaderElection(
        enabled=_bool(ns.leader_elect, "--leader-elect"),
        namespace=ns.leader_election_namespace,
        name=ns.leader_election_id,
        lease_duration=parse_duration(ns.lease_duration, "--lease-duration"),
        renew_deadline=parse_duration(ns.renew_deadline, "--renew-deadline"),
        retry_period=parse_duration(ns.retry_period, "--retry-period"),
    )
    if not leader.retry_period < leader.renew_deadline < leader.lease_duration:
        raise InputError(
            "leader election needs --retry-period < --renew-deadline < --lease-duration"
        )
    return ControllerConfig(
        kubeconfig=Path(ns.kubeconfig) if ns.kubeconfig else None,
        namespaces=tuple(dict.fromkeys(ns.namespace)),
        metrics_bind=ns.metrics_bind,
        health_bind=ns.health_bind,
        gateway_bind=ns.gateway_bind,
        header_timeout=_positive_seconds(ns.header_timeout, "--header-timeout"),
        idle_timeout=_positive_seconds(ns.idle_timeout, "--idle-timeout"),
        max_connections=_positive_int(ns.max_connections, "--max-connections"),
        workers=workers,
        log_format=ns.log_format,
        log_level=ns.log_level.upper(),
        ate_api=AteApiSettings(
            endpoint=ns.substrate_ate_api_endpoint.strip(),
            token_file=ns.substrate_ate_api_token_file.strip(),
            ca_file=ns.substrate_ate_api_ca_file.strip(),
            insecure=_bool(ns.substrate_ate_api_insecure, "--substrate-ate-api-insecure"),
            dial_timeout=parse_duration(ns.substrate_dial_timeout, "--substrate-dial-timeout"),
            call_timeout=parse_duration(ns.substrate_call_timeout, "--substrate-call-timeout"),
        ),
        router_url=ns.substrate_atenet_router_url.strip(),
        defaults=SubstrateDefaults(
            pause_image=ns.substrate_pause_image,
            runsc_amd64_url=ns.substrate_runsc_amd64_url,
            runsc_amd64_sha256=ns.substrate_runsc_amd64_sha256,
            runsc_arm64_url=ns.substrate_runsc_arm64_url,
            runsc_arm64_sha256=ns.substrate_runsc_arm64_sha256,
            worker_pool_namespace=ns.substrate_default_workerpool_namespace,
            worker_pool_name=ns.substrate_default_workerpool_name.strip(),
        ),
        leader=leader,
        resync_period=parse_duration(ns.resync_period, "--resync-period"),
        not_ready_requeue=parse_duration(ns.not_ready_requeue, "--not-ready-requeue"),
        no_free_workers_requeue=parse_duration(
            ns.no_free_workers_requeue, "--no-free-workers-requeue"
        ),
        delete_timeout=parse_duration(ns.delete_timeout, "--delete-timeout"),
        sandbox_runtime_image=ns.sandbox_runtime_image.strip(),
        kagent_url=ns.kagent_url.strip(),
        actor_otel_env=otel_env(env),
        session_idle_suspend=parse_duration(ns.session_idle_suspend, "--session-idle-suspend"),
        session_ensure_timeout=parse_duration(
            ns.session_ensure_timeout, "--session-ensure-timeout"
        ),
        gateway_allowed_origins=tuple(
            o.strip() for o in str(ns.gateway_allowed_origins).split(",") if o.strip()
        ),
        gateway_request_timeout=parse_duration(
            ns.gateway_request_timeout, "--gateway-request-timeout"
        ),
    )
