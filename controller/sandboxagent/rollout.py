"""How an edited SandboxAgent reaches new sessions: a changed template spec means a new template.

New session actors start from the template's golden snapshot, a process that already loaded
its configuration. Substrate never re-snapshots a Ready template after a spec edit
(spec/ateapi.md §5.2), so replacing the spec in place would leave every new session on the old
configuration (spec/sandboxagent_helm.md §9 #10). When the desired spec differs (the config
hash ``KAGENT_CONFIG_HASH`` changes with any edit of the config Secret), the template is deleted
(exact uid, and only when this agent controls it) and created again: a new template object
always gets a new golden actor and snapshot.

Session actors that already exist keep running from their own snapshots, with the configuration
they started with; they are found by the template's namespace/name, which does not change. The
previous golden actor is recorded on the agent (annotation ``kagent.dev/retired-golden-actor-ids``)
and deleted step by step on later passes; agent deletion finds it by its template anyway.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any, Final, Protocol

from controller.substrate import objects
from controller.substrate.outcome import OwnershipConflict
from controller.substrate.template import (
    controller_uid,
    merged_template,
    needs_update,
)
from shared.ateapi import errors as ate
from shared.kube import errors as kerr
from shared.kube.client import KubeClient
from shared.kube.resources import ACTOR_TEMPLATE, SANDBOX_AGENT

log = logging.getLogger(__name__)

RETIRED_GOLDEN: Final = "kagent.dev/retired-golden-actor-ids"


class ActorDeleter(Protocol):
    """One delete step for one actor of a template (`SessionActors.delete_step`)."""

    async def delete_step(self, actor_id: str, template: tuple[str, str]) -> bool: ...


def spec_changed(existing: dict[str, Any], desired: dict[str, Any]) -> bool:
    """Whether the live template's spec differs from the desired one."""
    return bool(existing.get("spec") != desired["spec"])


def retired_ids(agent: dict[str, Any]) -> list[str]:
    """Golden actor ids of previous templates still to delete."""
    raw = ((agent.get("metadata") or {}).get("annotations") or {}).get(RETIRED_GOLDEN, "")
    return sorted({i.strip() for i in str(raw).split(",") if i.strip()})


async def _set_retired(kube: KubeClient, agent: dict[str, Any], ids: list[str]) -> dict[str, Any]:
    value = ",".join(sorted(set(ids))) or None
    return await objects.patch_meta(
        kube, SANDBOX_AGENT, agent, {"annotations": {RETIRED_GOLDEN: value}}
    )


async def ensure_template(
    kube: KubeClient, agent: dict[str, Any], desired: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(agent, template): created, unchanged, updated in place, or recreated.

    Only a template this agent controls (owner uid) is ever deleted; a changed spec of one
    without a controller owner is adopted in place. Another owner's template is refused.
    """
    ns, name = desired["metadata"]["namespace"], desired["metadata"]["name"]
    try:
        existing = await kube.get(ACTOR_TEMPLATE, name, ns)
    except kerr.NotFound:
        try:
            return agent, await kube.create(ACTOR_TEMPLATE, desired, ns)
        except kerr.AlreadyExists:
            existing = await kube.get(ACTOR_TEMPLATE, name, ns)
    owner, uid = controller_uid(existing), agent["metadata"]["uid"]
    if owner is not None and owner != uid:
        raise OwnershipConflict(
            f"ActorTemplate {ns}/{name} is controlled by another object; rename the agent "
            "or delete that template"
        )
    if not needs_update(existing, desired):
        return agent, existing
    if owner == uid and spec_changed(existing, desired):
        return await recreate_template(kube, agent, existing, desired)
    return agent, await kube.replace(ACTOR_TEMPLATE, merged_template(existing, desired), ns)


async def recreate_template(
    kube: KubeClient, agent: dict[str, Any], existing: dict[str, Any], desired: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Delete ``existing`` (exact uid) and create ``desired``; (agent, new template).

    The old golden actor's id is written to the agent first, so it is never lost.
    """
    ns, name = desired["metadata"]["namespace"], desired["metadata"]["name"]
    golden = str((existing.get("status") or {}).get("goldenActorID") or "").strip()
    if golden and golden not in retired_ids(agent):
        agent = await _set_retired(kube, agent, [*retired_ids(agent), golden])
    with contextlib.suppress(kerr.NotFound):
        await kube.delete(ACTOR_TEMPLATE, name, ns, uid=existing["metadata"]["uid"])
    log.info(
        "ActorTemplate spec changed: recreated so Substrate builds a new golden snapshot",
        extra={"kind": "SandboxAgent", "namespace": ns, "name": agent["metadata"]["name"]},
    )
    return agent, await kube.create(ACTOR_TEMPLATE, desired, ns)


async def retire_step(
    kube: KubeClient, sessions: ActorDeleter, agent: dict[str, Any], template: tuple[str, str]
) -> dict[str, Any]:
    """One delete step for each retired golden actor; forget the ones that are gone."""
    ids = retired_ids(agent)
    if not ids:
        return agent
    left = []
    for actor_id in ids:
        try:
            gone = await sessions.delete_step(actor_id, template)
        except ate.AteApiError as exc:
            log.warning("retired golden actor %s: %s", actor_id, type(exc).__name__)
            gone = False
        if not gone:
            left.append(actor_id)
    if left != ids:
        agent = await _set_retired(kube, agent, left)
    return agent
