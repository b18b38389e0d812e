"""Actor operations through the ate-api client: ensure (create/resume) and the delete step.

An actor is ours only when its template is ours (``actor_template_namespace/name``): a
reference-form id that belongs to another harness (``a-b``/``c`` vs ``a``/``b-c``) is detected
and the hashed id is used instead (SPEC §5). Nothing here writes to Kubernetes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shared.ateapi import errors as ate
from shared.ateapi.convert import Actor, ActorStatus


class AteApi(Protocol):
    """The subset of `shared.ateapi.client.AteApiClient` the controller uses."""

    async def get_actor(self, actor_id: str) -> Actor: ...

    async def create_actor(
        self, actor_id: str, template_namespace: str, template_name: str
    ) -> Actor: ...

    async def resume_actor(self, actor_id: str) -> Actor: ...

    async def suspend_actor(self, actor_id: str) -> Actor: ...

    async def delete_actor(self, actor_id: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Ensured:
    """Outcome of `ensure_actor`."""

    actor_id: str
    actor: Actor | None
    no_free_workers: bool = False
    conflict_with: str = ""
    """The reference-form id that belongs to another template (an event is due)."""


def owned_by(actor: Actor, template: tuple[str, str]) -> bool:
    """Whether ``actor`` was created from our template."""
    return (actor.template_namespace, actor.template_name) == template


async def _get_or_create(client: AteApi, actor_id: str, template: tuple[str, str]) -> Actor:
    try:
        return await client.get_actor(actor_id)
    except ate.NotFound:
        pass
    try:
        return await client.create_actor(actor_id, template[0], template[1])
    except ate.AlreadyExists:
        return await client.get_actor(actor_id)


async def ensure_actor(client: AteApi, candidates: list[str], template: tuple[str, str]) -> Ensured:
    """Create or resume our actor, trying ``candidates`` in order (recorded id, then ids)."""
    conflict = ""
    for actor_id in dict.fromkeys(c for c in candidates if c):
        actor = await _get_or_create(client, actor_id, template)
        if not owned_by(actor, template):
            conflict = conflict or actor_id
            continue
        if actor.status in (ActorStatus.SUSPENDED, ActorStatus.UNSPECIFIED):
            try:
                actor = await client.resume_actor(actor_id)
            except ate.NoFreeWorkers:
                return Ensured(actor_id, actor, no_free_workers=True, conflict_with=conflict)
        return Ensured(actor_id, actor, conflict_with=conflict)
    raise ate.AlreadyExists(
        "CreateActor",
        "ALREADY_EXISTS",
        f"every candidate actor id is taken by another template: {', '.join(candidates)}",
    )


async def _ours(client: AteApi, actor_id: str, template: tuple[str, str] | None) -> Actor | None:
    """The actor, or None when there is none to act on: no id, absent, or another template's
    (a colliding id: never touched). ``template`` None skips the ownership check."""
    if not actor_id:
        return None
    try:
        actor = await client.get_actor(actor_id)
    except ate.NotFound:
        return None
    if template is not None and not owned_by(actor, template):
        return None
    return actor


async def _suspend_step(client: AteApi, actor_id: str) -> bool:
    """One SuspendActor; True when the actor turned out to be gone."""
    try:
        await client.suspend_actor(actor_id)
    except ate.NotFound:
        return True
    except ate.Aborted:
        return False
    return False


async def delete_step(client: AteApi, actor_id: str, template: tuple[str, str] | None) -> bool:
    """One mutating call towards "actor gone"; True when it is gone (or not ours).

    SUSPENDED/UNSPECIFIED -> delete; RUNNING/RESUMING/SUSPENDING/unknown -> suspend (again);
    delete refused as not suspended -> suspend next pass. ``template`` None skips the
    ownership check (the id was recorded by us).
    """
    actor = await _ours(client, actor_id, template)
    if actor is None:
        return True
    if actor.status in (ActorStatus.SUSPENDED, ActorStatus.UNSPECIFIED):
        try:
            await client.delete_actor(actor_id)
        except ate.NotFound:
            return True
        except ate.NotSuspended:
            return False
        return False  # confirmed gone on the next pass
    return await _suspend_step(client, actor_id)


async def quiesce_step(client: AteApi, actor_id: str, template: tuple[str, str]) -> bool:
    """True once ``actor_id`` is gone, suspended or not ours; else one SuspendActor, False.

    ate-api's SuspendActor loads the actor's template (missing: INTERNAL), and DeleteActor
    takes only a suspended actor: a golden actor still booting when its owner is deleted must
    be suspended while its ActorTemplate exists, or it can never be deleted.
    """
    actor = await _ours(client, actor_id, template)
    if actor is None or actor.status in (ActorStatus.SUSPENDED, ActorStatus.UNSPECIFIED):
        return True
    return await _suspend_step(client, actor_id)
