"""Actor/Worker values of our own, converted from the wire messages.

Statuses the compiled proto does not know (newer servers add PAUSING=5, PAUSED=6, the kagent
fork CRASHED=7) are kept as their raw number and map to `ActorStatus.UNKNOWN`, so callers
must handle them explicitly instead of mistaking them for a known state.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, cast

from shared.ateapi.wire import pb


class ActorStatus(enum.IntEnum):
    """Actor status (spec §2.2); ``UNKNOWN`` stands for any number this client does not know."""

    UNKNOWN = -1
    UNSPECIFIED = 0
    RESUMING = 1
    RUNNING = 2
    SUSPENDING = 3
    SUSPENDED = 4

    @classmethod
    def from_wire(cls, number: int) -> ActorStatus:
        """Map a wire number to a member; unknown numbers give ``UNKNOWN``."""
        try:
            return cls(number)
        except ValueError:
            return cls.UNKNOWN


_LABELS = {1: "Resuming", 2: "Running", 3: "Suspending", 4: "Suspended", 0: "Unknown"}


def status_name(number: int) -> str:
    """The proto enum name (``STATUS_RUNNING``), or the decimal number if unknown."""
    try:
        return str(pb.Actor.Status.Name(number))
    except ValueError:
        return str(number)


def status_label(number: int) -> str:
    """Human label (spec §7.4): Resuming/Running/Suspending/Suspended, 0 → Unknown, else name or number."""
    return _LABELS.get(number) or status_name(number)


@dataclass(frozen=True, slots=True)
class Actor:
    """One actor record as returned by ate-api."""

    actor_id: str
    version: int
    template_namespace: str
    template_name: str
    status: ActorStatus
    status_number: int
    pod_namespace: str = ""
    pod_name: str = ""
    pod_ip: str = ""
    pod_uid: str = ""
    last_snapshot: str = ""
    in_progress_snapshot: str = ""

    @property
    def status_label(self) -> str:
        """Human label of the status (e.g. ``Running``, or the number if unknown)."""
        return status_label(self.status_number)

    @property
    def status_name(self) -> str:
        """Proto enum name of the status (e.g. ``STATUS_RUNNING``)."""
        return status_name(self.status_number)


@dataclass(frozen=True, slots=True)
class Worker:
    """One worker (pod of a WorkerPool); ``actor_id == ""`` means free."""

    namespace: str
    pool: str
    pod: str
    ip: str
    pod_uid: str
    version: int
    actor_id: str = ""
    actor_namespace: str = ""
    actor_template: str = ""

    @property
    def free(self) -> bool:
        """True when no actor is bound to this worker."""
        return not self.actor_id


@dataclass(frozen=True, slots=True)
class ActorPage:
    """One ListActors page; an empty ``next_page_token`` means the listing is complete."""

    actors: tuple[Actor, ...]
    next_page_token: str


def actor_from_pb(msg: Any) -> Actor:
    """Convert an ``ateapi.Actor`` message."""
    number = int(msg.status)
    return Actor(
        actor_id=msg.actor_id,
        version=int(msg.version),
        template_namespace=msg.actor_template_namespace,
        template_name=msg.actor_template_name,
        status=ActorStatus.from_wire(number),
        status_number=number,
        pod_namespace=msg.ateom_pod_namespace,
        pod_name=msg.ateom_pod_name,
        pod_ip=msg.ateom_pod_ip,
        pod_uid=msg.ateom_pod_uid,
        last_snapshot=msg.last_snapshot,
        in_progress_snapshot=msg.in_progress_snapshot,
    )


def actor_to_pb(actor: Actor) -> Any:
    """Convert back to an ``ateapi.Actor`` message (used by the simulator and tests)."""
    return pb.Actor(
        actor_id=actor.actor_id,
        version=actor.version,
        actor_template_namespace=actor.template_namespace,
        actor_template_name=actor.template_name,
        status=cast(Any, actor.status_number),
        ateom_pod_namespace=actor.pod_namespace,
        ateom_pod_name=actor.pod_name,
        ateom_pod_ip=actor.pod_ip,
        ateom_pod_uid=actor.pod_uid,
        last_snapshot=actor.last_snapshot,
        in_progress_snapshot=actor.in_progress_snapshot,
    )


def worker_from_pb(msg: Any) -> Worker:
    """Convert an ``ateapi.Worker`` message."""
    return Worker(
        namespace=msg.worker_namespace,
        pool=msg.worker_pool,
        pod=msg.worker_pod,
        ip=msg.ip,
        pod_uid=msg.worker_pod_uid,
        version=int(msg.version),
        actor_id=msg.actor_id,
        actor_namespace=msg.actor_namespace,
        actor_template=msg.actor_template,
    )


def worker_to_pb(worker: Worker) -> Any:
    """Convert back to an ``ateapi.Worker`` message (used by the simulator and tests)."""
    return pb.Worker(
        worker_namespace=worker.namespace,
        worker_pool=worker.pool,
        worker_pod=worker.pod,
        ip=worker.ip,
        worker_pod_uid=worker.pod_uid,
        version=worker.version,
        actor_id=worker.actor_id,
        actor_namespace=worker.actor_namespace,
        actor_template=worker.actor_template,
    )
