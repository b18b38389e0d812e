"""Cluster-wide settings of every generated ActorTemplate (controller flags)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SubstrateDefaults:
    """Cluster-wide settings for generated templates (controller flags)."""

    pause_image: str = "gcr.io/gke-release/pause@sha256:bcbd57ba5653580ec647b16d8163cdd1112df3609129b01f912a8032e48265da"
    """Pause image of every actor pod (digest-pinned)."""
    runsc_amd64_url: str = "gs://gvisor/releases/nightly/2026-05-19/x86_64/runsc"
    """gVisor runsc binary for amd64 workers."""
    runsc_amd64_sha256: str = "a397be1abc2420d26bce6c70e6e2ff96c73aaaab929756c56f5e2089ea842b63"
    """SHA-256 of the amd64 runsc binary."""
    runsc_arm64_url: str = "gs://gvisor/releases/nightly/2026-05-19/aarch64/runsc"
    """gVisor runsc binary for arm64 workers."""
    runsc_arm64_sha256: str = "1ba2366ae2efceba166046f51a4104f9261c9cb72c6db8f5b3fe2dc57dea86b9"
    """SHA-256 of the arm64 runsc binary."""
    worker_pool_namespace: str = "kagent"
    """Namespace of the default WorkerPool."""
    worker_pool_name: str = ""
    """Name of the default WorkerPool; empty means every object must name one."""
