"""In-memory records of the simulator (the reference keeps them in Redis/Valkey)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Final

from shared.ateapi.convert import Actor, ActorStatus, Worker

UNSPECIFIED: Final = 0
RESUMING: Final = 1
RUNNING: Final = 2
SUSPENDING: Final = 3
SUSPENDED: Final = 4


@dataclass(slots=True)
class ActorRecord:
    """One actor (``actor:<id>``)."""

    actor_id: str
    template_namespace: str
    template_name: str
    version: int = 1
    status: int = SUSPENDED
    pod_namespace: str = ""
    pod_name: str = ""
    pod_ip: str = ""
    pod_uid: str = ""
    last_snapshot: str = ""
    in_progress_snapshot: str = ""
    restored_from: str = ""
    """Simulator-only: ``snapshot:<uri>``, ``golden:<uri>`` or ``boot`` for the last resume."""

    def to_actor(self) -> Actor:
        """Our client-side value for this record."""
        return Actor(
            actor_id=self.actor_id,
            version=self.version,
            template_namespace=self.template_namespace,
            template_name=self.template_name,
            status=ActorStatus.from_wire(self.status),
            status_number=self.status,
            pod_namespace=self.pod_namespace,
            pod_name=self.pod_name,
            pod_ip=self.pod_ip,
            pod_uid=self.pod_uid,
            last_snapshot=self.last_snapshot,
            in_progress_snapshot=self.in_progress_snapshot,
        )

    def copy(self) -> ActorRecord:
        """A detached copy (responses never alias stored records)."""
        return dataclasses.replace(self)


@dataclass(slots=True)
class WorkerRecord:
    """One worker (``worker:<ns>:<pool>:<pod>``); ``actor_id == ""`` is free."""

    namespace: str
    pool: str
    pod: str
    ip: str
    uid: str
    version: int = 1
    actor_id: str = ""
    actor_namespace: str = ""
    actor_template: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        """(namespace, pool, pod)."""
        return (self.namespace, self.pool, self.pod)

    def to_worker(self) -> Worker:
        """Our client-side value for this record."""
        return Worker(
            namespace=self.namespace,
            pool=self.pool,
            pod=self.pod,
            ip=self.ip,
            pod_uid=self.uid,
            version=self.version,
            actor_id=self.actor_id,
            actor_namespace=self.actor_namespace,
            actor_template=self.actor_template,
        )


@dataclass(frozen=True, slots=True)
class TemplateInfo:
    """What ate-api's informer cache knows of one ActorTemplate."""

    namespace: str
    name: str
    pool_namespace: str
    pool_name: str
    snapshot_location: str = "gs://ate-snapshots/sim"
    golden_snapshot: str = ""


@dataclass(slots=True)
class Store:
    """Every record the simulator holds; one event loop, so no locks beyond the actor locks."""

    actors: dict[str, ActorRecord] = field(default_factory=dict)
    workers: dict[tuple[str, str, str], WorkerRecord] = field(default_factory=dict)
    templates: dict[tuple[str, str], TemplateInfo] = field(default_factory=dict)
    locks: set[str] = field(default_factory=set)
    worker_serial: int = 0

    def clear(self) -> None:
        """DebugClear: actors, workers and locks gone (templates are Kubernetes objects, kept)."""
        self.actors.clear()
        self.workers.clear()
        self.locks.clear()
