"""Pure condition table of an AgentHarness (spec/agentharness.md §5.7, §6-7; SPEC §6 reasons).

Each outcome of a reconcile maps to a set of conditions with exact reasons and messages; the
reconciler applies them with `apply` and writes status only when something changed.
"""

from __future__ import annotations

from typing import Final

from controller.substrate.objects import Cond as Cond
from controller.substrate.objects import apply as apply
from controller.substrate.objects import status_of as status_of
from shared.ateapi.convert import Actor, ActorStatus

READY: Final = "Ready"
ACCEPTED: Final = "Accepted"
TEMPLATE_READY: Final = "ActorTemplateReady"
ACTOR_READY: Final = "ActorReady"
BOOTSTRAP_READY: Final = "BootstrapReady"
TRUE, FALSE, UNKNOWN = "True", "False", "Unknown"

WAITING_TEMPLATE: Final = "waiting for ActorTemplate golden snapshot"
NO_FREE_WORKERS_MSG: Final = (
    "substrate worker pool has no free workers; try again later or increase WorkerPool replicas"
)


def backend_unavailable(backend: str) -> list[Cond]:
    """hermes (or any non-claw backend) on substrate."""
    return [
        Cond(
            ACCEPTED,
            FALSE,
            "BackendUnavailable",
            f'no substrate backend configured for "{backend}"',
        ),
        Cond(READY, FALSE, "BackendUnavailable"),
    ]


def lifecycle_failed(message: str) -> list[Cond]:
    """Template inputs cannot be built (pool, image, token, ModelConfig...)."""
    return [
        Cond(ACCEPTED, FALSE, "SubstrateLifecycleFailed", message),
        Cond(READY, FALSE, "SubstrateLifecycleFailed", message),
    ]


def template_pending() -> list[Cond]:
    """The template exists but its golden snapshot is not ready."""
    return [
        Cond(TEMPLATE_READY, FALSE, "NotReady", WAITING_TEMPLATE),
        Cond(ACCEPTED, TRUE, "SubstrateLifecyclePending", WAITING_TEMPLATE),
        Cond(
            ACTOR_READY, FALSE, "ActorNotCreated", "waiting for ActorTemplate before creating actor"
        ),
        Cond(READY, FALSE, "ActorTemplateNotReady", "ActorTemplate is not Ready yet"),
    ]


def template_failed(message: str) -> list[Cond]:
    """Substrate marked the template Failed (terminal until the template changes)."""
    text = message or "ActorTemplate phase is Failed"
    return [
        Cond(TEMPLATE_READY, FALSE, "TemplateFailed", text),
        Cond(ACCEPTED, FALSE, "TemplateFailed", text),
        Cond(READY, FALSE, "TemplateFailed", text),
    ]


def template_ready() -> Cond:
    """The golden snapshot is ready."""
    return Cond(TEMPLATE_READY, TRUE, "Ready", "ActorTemplate golden snapshot is ready")


def ensure_failed(message: str) -> list[Cond]:
    """Creating or resuming the actor failed."""
    return [
        Cond(ACCEPTED, FALSE, "EnsureFailed", message),
        Cond(READY, FALSE, "EnsureFailed", message),
    ]


def substrate_unavailable(message: str) -> list[Cond]:
    """ate-api cannot be reached; the controller keeps running and retries."""
    return [Cond(READY, FALSE, "SubstrateUnavailable", message)]


def no_free_workers() -> list[Cond]:
    """Resume refused for lack of capacity (fixed requeue)."""
    return [
        Cond(ACCEPTED, TRUE, "AgentHarnessAccepted", "backend accepted sandbox request"),
        Cond(ACTOR_READY, FALSE, "NoFreeWorkers", NO_FREE_WORKERS_MSG),
        Cond(READY, FALSE, "NoFreeWorkers", NO_FREE_WORKERS_MSG),
    ]


def actor_status(actor: Actor | None, actor_id: str) -> Cond:
    """GetStatus of spec §5.7 as an ActorReady condition."""
    if not actor_id:
        return Cond(
            ACTOR_READY, UNKNOWN, "ActorHandleMissing", "no substrate actor id recorded yet"
        )
    if actor is None:
        return Cond(
            ACTOR_READY, UNKNOWN, "ActorNotFound", f'substrate actor "{actor_id}" not found'
        )
    table = {
        ActorStatus.RESUMING: Cond(ACTOR_READY, FALSE, "ActorResuming", "actor is resuming"),
        ActorStatus.SUSPENDING: Cond(ACTOR_READY, FALSE, "ActorSuspending", "actor is suspending"),
        ActorStatus.SUSPENDED: Cond(ACTOR_READY, FALSE, "ActorSuspended", "actor is suspended"),
    }
    if actor.status == ActorStatus.RUNNING:
        where = f"actor running on {actor.pod_ip}" if actor.pod_ip else "actor is running"
        return Cond(ACTOR_READY, TRUE, "ActorRunning", where)
    return table.get(actor.status) or Cond(
        ACTOR_READY, UNKNOWN, "ActorStatusUnknown", actor.status_name
    )


def actor_outcome(actor_cond: Cond, reachable: bool) -> list[Cond]:
    """Accepted + ActorReady + BootstrapReady + Ready once the actor exists."""
    accepted = Cond(ACCEPTED, TRUE, "AgentHarnessAccepted", "backend accepted sandbox request")
    if actor_cond.status == TRUE and reachable:
        return [
            accepted,
            actor_cond,
            Cond(BOOTSTRAP_READY, TRUE, "BootstrapComplete", "post-ready bootstrap completed"),
            Cond(READY, TRUE, actor_cond.reason, actor_cond.message),
        ]
    if actor_cond.status == TRUE:
        message = "actor is running but not reachable through the atenet-router yet"
        return [
            accepted,
            actor_cond,
            Cond(
                BOOTSTRAP_READY,
                FALSE,
                "ActorNotReady",
                "waiting for actor before post-ready bootstrap",
            ),
            Cond(READY, FALSE, "ActorUnreachable", message),
        ]
    return [
        accepted,
        actor_cond,
        Cond(
            BOOTSTRAP_READY, FALSE, "ActorNotReady", "waiting for actor before post-ready bootstrap"
        ),
        Cond(READY, actor_cond.status, actor_cond.reason, actor_cond.message),
    ]


def deleting_actor(actor_id: str) -> list[Cond]:
    """Waiting for the harness actor to be gone."""
    return [
        Cond(
            ACTOR_READY,
            FALSE,
            "ActorDeleting",
            f'waiting for substrate actor "{actor_id}" deletion',
        )
    ]


def deleting_golden() -> list[Cond]:
    """Waiting for the golden actor to be gone."""
    return [
        Cond(
            TEMPLATE_READY,
            FALSE,
            "GoldenActorDeleting",
            "waiting for generated ActorTemplate golden actor deletion",
        )
    ]


def delete_timeout() -> list[Cond]:
    """Cleanup has taken longer than the delete timeout (it keeps retrying)."""
    return [Cond(READY, FALSE, "DeleteTimeout", "substrate cleanup exceeded timeout")]


def endpoint_text(namespace: str, name: str, actor: Actor | None) -> str:
    """status.connection.endpoint (spec §5.7)."""
    ui = f"/api/agentharnesses/{namespace}/{name}/gateway/"
    if actor is None:
        return f"kagent gateway: {ui}"
    if actor.actor_id.strip():
        host = f"{actor.actor_id}.actors.resources.substrate.ate.dev"
        return f"atenet-router Host {host} (UI via kagent {ui})"
    return f"kagent gateway: {ui} (actor status {actor.status_name})"
