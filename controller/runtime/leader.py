"""Lease leader election on ``coordination.k8s.io/v1`` (client-go ``leaderelection``).

A candidate tries to acquire the Lease every ``retry_period``; it may take it when nobody
holds it, when it holds it already, or when the holder's record has not changed for
``lease_duration`` as observed on *our* clock (never trusting another node's wall time).
Writes are guarded by the Lease's resourceVersion, so two candidates cannot both win.
The leader renews every ``retry_period``; if it cannot renew within ``renew_deadline`` it
has lost the lease: `run` calls ``on_lost`` and raises `LeaderLost` (the process must stop
reconciling and exit non-zero). Each request's deadline is at most ``renew_deadline / 2``.
On a clean stop, `release` empties holderIdentity so a standby takes over at once.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from controller.runtime.clock import Clock, LoopClock
from shared.kube import errors
from shared.kube.client import KubeClient
from shared.kube.resources import LEASE

log = logging.getLogger(__name__)

JITTER = 1.2


def default_identity() -> str:
    """``<hostname>_<uuid4>``: unique per process even with equal hostnames."""
    return f"{socket.gethostname()}_{uuid.uuid4()}"


def _microtime(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class LeaderElectionConfig:
    """Lease name and timings (controller-runtime defaults)."""

    lease_name: str
    """Name of the Lease object."""
    lease_namespace: str
    """Namespace of the Lease object."""
    identity: str = field(default_factory=default_identity)
    """This candidate's holderIdentity."""
    lease_duration: float = 15.0
    """Seconds a standby waits after the last observed renewal before taking over."""
    renew_deadline: float = 10.0
    """Seconds the leader keeps trying to renew before giving up leadership."""
    retry_period: float = 2.0
    """Seconds between acquire/renew attempts."""

    def __post_init__(self) -> None:
        if self.lease_duration <= self.renew_deadline:
            raise ValueError("lease_duration must be greater than renew_deadline")
        if self.renew_deadline <= JITTER * self.retry_period:
            raise ValueError(f"renew_deadline must be greater than {JITTER} * retry_period")
        if self.retry_period <= 0:
            raise ValueError("retry_period must be positive")


class LeaderLost(Exception):
    """This process held the lease and lost it; it must stop and exit non-zero."""


class LeaderElector:
    """Acquires, renews and releases one Lease."""

    def __init__(
        self,
        client: KubeClient,
        config: LeaderElectionConfig,
        *,
        on_lost: Callable[[], None] | None = None,
        clock: Clock | None = None,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.client = client
        self.config = config
        self.on_lost = on_lost
        self.clock = clock or LoopClock()
        self._wall = wall
        self._rand = rand
        self.leading = asyncio.Event()
        """Set while this process holds the lease."""
        self.observed_holder = ""
        """holderIdentity of the last Lease record seen."""
        self._observed: tuple[str, str, str] | None = None
        self._observed_at = 0.0
        self._rv = ""

    @property
    def is_leader(self) -> bool:
        """True while leading."""
        return self.leading.is_set()

    @property
    def _timeout(self) -> float:
        return min(self.client.config.request_timeout, self.config.renew_deadline / 2)

    def _extra(self) -> dict[str, Any]:
        c = self.config
        return {"kind": "Lease", "namespace": c.lease_namespace}

    async def run(self) -> None:
        """Acquire, then renew until cancelled (then release) or lost (then raise LeaderLost)."""
        try:
            await self._acquire()
            await self._renew_until_lost()
        except asyncio.CancelledError:
            if self.is_leader:
                await asyncio.shield(self.release())
            raise
        self.leading.clear()
        log.error("leader election lost: %s", self.config.identity, extra=self._extra())
        if self.on_lost is not None:
            self.on_lost()
        raise LeaderLost(f"lease {self.config.lease_namespace}/{self.config.lease_name} lost")

    async def _acquire(self) -> None:
        while not await self.try_acquire_or_renew():
            await self.clock.sleep(self.config.retry_period * (1 + (JITTER - 1) * self._rand()))
        self.leading.set()
        log.info("became leader: %s", self.config.identity, extra=self._extra())

    async def _renew_until_lost(self) -> None:
        c = self.config
        while True:
            deadline = self.clock.now() + c.renew_deadline
            while not await self.try_acquire_or_renew():
                if self.clock.now() + c.retry_period >= deadline:
                    return
                await self.clock.sleep(c.retry_period)
            await self.clock.sleep(c.retry_period)

    async def try_acquire_or_renew(self) -> bool:
        """One attempt: take or renew the lease if allowed; True when we hold it now."""
        c = self.config
        now_wall = _microtime(self._wall())
        try:
            lease = await self.client.get(
                LEASE, c.lease_name, c.lease_namespace, timeout=self._timeout
            )
        except errors.NotFound:
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": c.lease_name, "namespace": c.lease_namespace},
                "spec": self._spec(now_wall, now_wall, 0),
            }
            try:
                created = await self.client.create(LEASE, body, timeout=self._timeout)
            except errors.KubeError as exc:
                log.debug("lease create failed: %s", exc, extra=self._extra())
                return False
            self._observe(created)
            return True
        except errors.KubeError as exc:
            log.warning("lease read failed: %s", exc, extra=self._extra())
            return False
        spec = lease.get("spec") or {}
        self._observe(lease)
        holder = str(spec.get("holderIdentity") or "")
        duration = float(spec.get("leaseDurationSeconds") or c.lease_duration)
        expired = self._observed_at + duration <= self.clock.now()
        if holder and holder != c.identity and not expired:
            return False
        transitions = int(spec.get("leaseTransitions") or 0)
        acquire = str(spec.get("acquireTime") or now_wall)
        if holder != c.identity:
            transitions += 1
            acquire = now_wall
        lease["spec"] = self._spec(acquire, now_wall, transitions)
        try:
            updated = await self.client.replace(LEASE, lease, timeout=self._timeout)
        except errors.KubeError as exc:
            log.debug("lease update failed: %s", exc, extra=self._extra())
            return False
        self._observe(updated)
        return True

    def _spec(self, acquire: str, renew: str, transitions: int) -> dict[str, Any]:
        return {
            "holderIdentity": self.config.identity,
            "leaseDurationSeconds": max(1, round(self.config.lease_duration)),
            "acquireTime": acquire,
            "renewTime": renew,
            "leaseTransitions": transitions,
        }

    def _observe(self, lease: dict[str, Any]) -> None:
        spec = lease.get("spec") or {}
        record = (
            str(spec.get("holderIdentity") or ""),
            str(spec.get("renewTime") or ""),
            str((lease.get("metadata") or {}).get("resourceVersion") or ""),
        )
        if record != self._observed:
            self._observed = record
            self._observed_at = self.clock.now()
        self.observed_holder = record[0]

    async def release(self) -> bool:
        """Give the lease up (only if we still hold it); True when released."""
        c = self.config
        self.leading.clear()
        try:
            lease = await self.client.get(
                LEASE, c.lease_name, c.lease_namespace, timeout=self._timeout
            )
            spec = lease.get("spec") or {}
            if spec.get("holderIdentity") != c.identity:
                return False
            now_wall = _microtime(self._wall())
            spec.update({"holderIdentity": "", "leaseDurationSeconds": 1, "renewTime": now_wall})
            lease["spec"] = spec
            await self.client.replace(LEASE, lease, timeout=self._timeout)
        except errors.KubeError as exc:
            log.warning("lease release failed: %s", exc, extra=self._extra())
            return False
        log.info("released leadership: %s", c.identity, extra=self._extra())
        return True
