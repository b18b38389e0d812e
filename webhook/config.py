"""`WebhookConfig`: every setting of the webhook process, built once by ``cli.py``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from shared.serving.limits import (
    DEFAULT_HEADER_TIMEOUT,
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS,
    ListenerLimits,
)

MAX_BODY_BYTES: Final = 3 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    """Where to listen, which certificates, which rules, and how long to wait."""

    port: int = 9443
    """HTTPS port of ``/validate`` and ``/mutate``; 0 picks a free one."""
    metrics_port: int = 8080
    """Plain-HTTP port of ``/healthz``, ``/readyz`` and ``/metrics``; 0 picks a free one."""
    bind_address: str = "0.0.0.0"
    """Address both ports bind."""
    tls_cert_file: Path | None = None
    """Serving certificate (PEM chain), watched and reloaded in place; not with self_signed."""
    tls_private_key_file: Path | None = None
    """Private key of ``tls_cert_file`` (PEM)."""
    crds: Path | None = None
    """Folder of CRD YAML the rules come from; None: the CRDs shipped with the package."""
    default_worker_pool: str | None = None
    """WorkerPool pinned into substrate objects that name none (SPEC §4 mutation)."""
    default_namespace: str = "default"
    """Namespace assumed when a request names none."""
    self_signed: bool = False
    """Generate a CA and serving certificate, rotate them, patch caBundle into our webhooks."""
    cert_dir: Path | None = None
    """Where self-signed material is written (and reused on restart); None: a temporary folder."""
    service_name: str = "kagent-substrate-webhook"
    """Service in front of the webhook: its DNS names go into the self-signed certificate."""
    service_namespace: str = "kagent-system"
    """Namespace of that Service."""
    extra_hosts: tuple[str, ...] = ()
    """More DNS names or IP addresses for the self-signed serving certificate."""
    validating_webhook_configuration: str = "kagent-substrate"
    """ValidatingWebhookConfiguration whose caBundle is patched in self-signed mode."""
    mutating_webhook_configuration: str = "kagent-substrate"
    """MutatingWebhookConfiguration whose caBundle is patched in self-signed mode."""
    kubeconfig: Path | None = None
    """Kubeconfig for caBundle patching; None with in_cluster False: patching is skipped."""
    in_cluster: bool = False
    """Use the pod's service account for caBundle patching."""
    kube_timeout: float = 10.0
    """Seconds each Kubernetes API call may take."""
    serving_cert_days: int = 90
    """Lifetime of a self-signed serving certificate, in days."""
    ca_days: int = 365
    """Lifetime of the self-signed CA, in days."""
    rotate_fraction: float = 1 / 3
    """Renew a self-signed certificate when less than this share of its lifetime is left."""
    cert_poll_interval: float = 2.0
    """Seconds between checks of the mounted certificate files (and of self-signed expiry)."""
    request_timeout: float = 8.0
    """Per-request deadline in seconds; keep it below the webhooks' timeoutSeconds (10)."""
    max_body_bytes: int = MAX_BODY_BYTES
    """Largest AdmissionReview body accepted; larger answers HTTP 413."""
    inline_body_bytes: int = 256 * 1024
    """Bodies up to this size are evaluated on the event loop; larger ones in a thread."""
    shutdown_delay: float = 0.0
    """Seconds to keep serving (not ready) after SIGTERM so endpoints drop this pod first."""
    shutdown_timeout: float = 15.0
    """Seconds in-flight requests get to finish after SIGTERM before the process exits."""
    header_timeout: float = DEFAULT_HEADER_TIMEOUT
    """Seconds from accept until a connection's first request headers are in (TLS included)."""
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    """Seconds a kept-alive connection may wait for its next request."""
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    """Open connections per listener (each of the HTTPS and the health/metrics port)."""
    log_format: str = "text"
    """``text`` or ``json``."""
    log_level: str = "INFO"
    """Logging level name."""
    workers: int = 1
    """Processes serving the HTTPS port (SO_REUSEPORT); the first also serves health and
    metrics. More than one needs a mounted certificate (self-signed mode runs one process)."""

    @property
    def limits(self) -> ListenerLimits:
        """What every listener of this process bounds."""
        return ListenerLimits(self.header_timeout, self.idle_timeout, self.max_connections)

    @property
    def hosts(self) -> list[str]:
        """DNS names (and addresses) the self-signed serving certificate is valid for."""
        svc, ns = self.service_name, self.service_namespace
        names = [f"{svc}.{ns}.svc", f"{svc}.{ns}.svc.cluster.local", f"{svc}.{ns}", svc]
        return names + [h for h in self.extra_hosts if h not in names]
