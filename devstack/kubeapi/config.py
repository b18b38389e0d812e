"""Settings of one stand-in server (built by cli.py or by test fixtures)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from devstack.kubeapi.auth import AuthTable


@dataclass(frozen=True, slots=True)
class KubeApiConfig:
    """Where to listen, what to write, and how the stand-in behaves."""

    host: str = "127.0.0.1"
    """Address to bind (loopback by default)."""
    port: int = 0
    """TCP port; 0 picks a free one."""
    kubeconfig: Path | None = None
    """Where to write the kubeconfig (CA, server URL, admin bearer token)."""
    state_dir: Path | None = None
    """Folder for the CA, serving cert and the snapshot; reused on restart. None: in memory only."""
    admin_token: str = ""
    """Bearer token of the ``admin`` user (group system:masters); empty: a random one."""
    auth: AuthTable = field(default_factory=AuthTable)
    """More tokens and the RBAC table (TokenReview, SubjectAccessReview, request authorization)."""
    webhook_services: dict[str, str] = field(default_factory=dict)
    """``namespace/name`` of a webhook Service -> ``host:port`` to call instead."""
    bookmark_interval: float = 30.0
    """Seconds between BOOKMARK events on watches that allow them."""
    history_size: int = 20_000
    """Changes kept per resource for watch resume; older resourceVersions answer 410."""
    snapshot_interval: float = 1.0
    """Seconds between snapshot writes while objects change (with state_dir)."""
    webhook_timeout: float = 10.0
    """Default webhook timeout when timeoutSeconds is not set."""
