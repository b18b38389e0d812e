"""AgentHarness reconcile (spec/agentharness.md §6-7 with SPEC §5-6): the kind's steps.

Level-based: converge the owned Secret, the ActorTemplate and the actor, then write status only
when it changed (a merge patch guarded by resourceVersion). Deletion is a step machine across
passes: recorded and deterministic actors, then the golden actor, then the finalizer. The pass
skeleton and the outcome mapping are `controller.substrate.reconciler`'s; pure pieces live in
`template`, `claw`, `status`; ate-api calls in `controller.substrate.actor`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final

from controller.config import ControllerConfig
from controller.harness import claw, inputs
from controller.harness import status as st
from controller.harness.template import choose_image, desired_template
from controller.runtime.cache import Reader
from controller.runtime.result import Result
from controller.substrate import actor as actors
from controller.substrate import objects
from controller.substrate.events import Events
from controller.substrate.metrics import ObjectMetrics
from controller.substrate.objects import GOLDEN_ANNOTATION
from controller.substrate.outcome import OwnershipConflict
from controller.substrate.reconciler import ObjectReconciler
from controller.substrate.template import (
    TemplateError,
    controller_uid,
    merged_template,
    needs_update,
    owned_template,
    read_pool,
)
from shared.ateapi import errors as ate
from shared.conditions import now_rfc3339
from shared.kube import errors as kerr
from shared.kube.client import KubeClient
from shared.kube.resources import ACTOR_TEMPLATE, AGENT_HARNESS, SECRET
from shared.naming import harness_actor_id, harness_actor_id_hashed, harness_template_name

log = logging.getLogger(__name__)

FINALIZER: Final = "kagent.dev/agent-harness-backend-cleanup"
CLAW_BACKENDS: Final = ("openclaw", "nemoclaw")
MAX_TEMPLATE_BYTES: Final = 1024 * 1024
"""Largest ActorTemplate the controller writes; below etcd's 1.5 MiB per object."""


@dataclass(frozen=True, slots=True)
class HarnessDeps:
    """What the reconciler needs, built once by the composition root."""

    kube: KubeClient
    ate: actors.AteApi
    probe: Callable[[str], Awaitable[bool]]
    """Whether an actor answers /health through the atenet-router."""
    events: Events
    config: ControllerConfig
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    reader: Reader | None = None
    """Reads of what the harness references (watch caches); None: live GETs."""
    metrics: ObjectMetrics | None = None
    """Time-to-Ready observations (None: not measured)."""


class HarnessReconciler(ObjectReconciler):
    """Converges one AgentHarness (runtime substrate) per call."""

    resource = AGENT_HARNESS
    finalizer = FINALIZER
    kind = "AgentHarness"
    skip_note = "substrate actors were not deleted"
    invalid_prefix = "reconcile ActorTemplate"

    def __init__(self, deps: HarnessDeps) -> None:
        super().__init__(deps.kube, deps.events, deps.config, deps.clock, deps.metrics)
        self.d = deps
        self.read: Reader = deps.reader or deps.kube

    def owns(self, obj: dict[str, Any]) -> bool:
        return bool((obj.get("spec") or {}).get("runtime", "openshell") == "substrate")

    async def write_failed(self, obj: dict[str, Any], message: str) -> None:
        await self._write(obj, st.lifecycle_failed(message))

    # --- ensure ----------------------------------------------------------------------------

    async def ensure(self, obj: dict[str, Any]) -> Result:
        harness, cfg = obj, self.d.config
        spec, meta = harness.get("spec") or {}, harness["metadata"]
        ns, name = meta["namespace"], meta["name"]
        backend = str(spec.get("backend", ""))
        if backend not in CLAW_BACKENDS:
            await self._write(harness, st.backend_unavailable(backend))
            return Result()
        template = await self._ensure_template(harness)
        phase = str((template.get("status") or {}).get("phase") or "")
        if phase == "Failed":
            await self._write(harness, st.template_failed(objects.template_message(template)))
            return Result()
        if not objects.template_ready(template):
            await self._write(harness, st.template_pending())
            return Result(requeue_after=cfg.not_ready_requeue)
        template_key = (ns, template["metadata"]["name"])
        recorded = str(((harness.get("status") or {}).get("backendRef") or {}).get("id") or "")
        candidates = [recorded, harness_actor_id(ns, name), harness_actor_id_hashed(ns, name)]
        try:
            ensured = await actors.ensure_actor(self.d.ate, candidates, template_key)
        except (ate.Unavailable, ate.DeadlineExceeded) as exc:
            await self._write(harness, [st.template_ready(), *st.substrate_unavailable(str(exc))])
            return Result(requeue_after=cfg.not_ready_requeue)
        except ate.AteApiError as exc:
            await self._write(harness, [st.template_ready(), *st.ensure_failed(str(exc))])
            raise
        if ensured.conflict_with:
            note = (
                f'actor id "{ensured.conflict_with}" belongs to another ActorTemplate; '
                f'using "{ensured.actor_id}" for this harness'
            )
            await self.d.events(harness, "Warning", "ActorIDConflict", "EnsureActor", note)
        extra = {
            "backendRef": {"backend": backend, "id": ensured.actor_id},
            "connection": {"endpoint": st.endpoint_text(ns, name, ensured.actor)},
        }
        if ensured.no_free_workers:
            await self._write(harness, [st.template_ready(), *st.no_free_workers()], extra)
            return Result(requeue_after=cfg.no_free_workers_requeue)
        cond = st.actor_status(ensured.actor, ensured.actor_id)
        reachable = cond.status == st.TRUE and await self.d.probe(ensured.actor_id)
        await self._write(harness, [st.template_ready(), *st.actor_outcome(cond, reachable)], extra)
        if cond.status == st.TRUE and reachable:
            return Result(requeue_after=cfg.resync_period)
        return Result(requeue_after=cfg.not_ready_requeue)

    async def _ensure_template(self, harness: dict[str, Any]) -> dict[str, Any]:
        meta, spec = harness["metadata"], harness.get("spec") or {}
        ns = meta["namespace"]
        substrate = spec.get("substrate")
        if not isinstance(substrate, dict):
            raise TemplateError("spec.substrate is required")
        pool = await read_pool(self.read, ns, substrate, self.d.config.defaults)
        image = choose_image(substrate.get("workloadImage"))
        resolved = await inputs.resolve(self.read, harness)
        await self._ensure_owned_secret(harness, resolved)
        config_json = claw.go_json(
            claw.openclaw_config(ns, meta["name"], "", resolved.model, resolved.channels)
        )
        script = claw.startup_script(
            config_json, inject_token=resolved.has_gateway_token, channels=resolved.channels
        )
        desired = desired_template(
            harness,
            pool=pool,
            image=image,
            script=script,
            env=resolved.env,
            defaults=self.d.config.defaults,
        )
        size = len(json.dumps(desired, separators=(",", ":")).encode())
        if size > MAX_TEMPLATE_BYTES:
            raise TemplateError(
                f"the generated ActorTemplate would be {size} bytes; the limit is "
                f"{MAX_TEMPLATE_BYTES} (an apiserver stores about 1.5 MiB per object): shorten "
                "spec.channels allowlists and spec.env"
            )
        tname = desired["metadata"]["name"]
        try:
            existing = await self.d.kube.get(ACTOR_TEMPLATE, tname, ns)
        except kerr.NotFound:
            try:
                return await self.d.kube.create(ACTOR_TEMPLATE, desired, ns)
            except kerr.AlreadyExists:
                existing = await self.d.kube.get(ACTOR_TEMPLATE, tname, ns)
        owner = controller_uid(existing)
        if owner is not None and owner != meta["uid"]:
            raise OwnershipConflict(
                f"ActorTemplate {ns}/{tname} is controlled by another object; rename the harness "
                "or delete that template"
            )
        if needs_update(existing, desired):
            return await self.d.kube.replace(ACTOR_TEMPLATE, merged_template(existing, desired), ns)
        return existing

    async def _ensure_owned_secret(self, harness: dict[str, Any], resolved: inputs.Inputs) -> None:
        if not resolved.owned_secret_data:
            return
        desired = inputs.owned_secret(harness, resolved.owned_secret_data)
        ns, sname = desired["metadata"]["namespace"], desired["metadata"]["name"]
        try:
            live = await self.d.kube.get(SECRET, sname, ns)
        except kerr.NotFound:
            await self.d.kube.create(SECRET, desired, ns)
            return
        if controller_uid(live) != harness["metadata"]["uid"]:
            raise OwnershipConflict(
                f"Secret {ns}/{sname} exists and is not owned by this harness; delete or rename it"
            )
        if live.get("data") != desired["data"]:
            await self.d.kube.replace(SECRET, {**live, "data": desired["data"]}, ns)

    async def _write(
        self, harness: dict[str, Any], wanted: list[st.Cond], extra: dict[str, Any] | None = None
    ) -> None:
        now = now_rfc3339(self.d.clock())
        await self.write_ready_aware(
            harness,
            wanted,
            lambda: objects.write_status(self.d.kube, AGENT_HARNESS, harness, wanted, now, extra),
        )

    # --- delete -----------------------------------------------------------------------------

    async def delete_actors(self, obj: dict[str, Any], timed_out: bool) -> bool:
        harness, meta = obj, obj["metadata"]
        ns, name = meta["namespace"], meta["name"]
        tname = harness_template_name(ns, name)
        ours = (ns, tname)
        recorded = str(((harness.get("status") or {}).get("backendRef") or {}).get("id") or "")
        extra_timeout = st.delete_timeout() if timed_out else []
        template, foreign = await owned_template(self.d.kube, ns, tname, meta["uid"])
        if foreign:
            # Another object's template: no actor from it is ours (issue 15 item 3).
            return True
        for actor_id in dict.fromkeys(
            x
            for x in (recorded, harness_actor_id(ns, name), harness_actor_id_hashed(ns, name))
            if x
        ):
            if not await actors.delete_step(self.d.ate, actor_id, ours):
                await self._write(harness, [*st.deleting_actor(actor_id), *extra_timeout])
                return False
        golden = (meta.get("annotations") or {}).get(GOLDEN_ANNOTATION, "")
        if template is not None:
            golden = (
                str((template.get("status") or {}).get("goldenActorID") or "").strip() or golden
            )
            if golden and not (meta.get("annotations") or {}).get(GOLDEN_ANNOTATION):
                harness = await objects.patch_meta(
                    self.d.kube,
                    AGENT_HARNESS,
                    harness,
                    {"annotations": {GOLDEN_ANNOTATION: golden}},
                )
            # A golden actor still booting is suspended first: ate-api cannot suspend it (nor
            # then delete it) once its template is gone.
            if golden and not await actors.quiesce_step(self.d.ate, golden, ours):
                await self._write(harness, [*st.deleting_golden(), *extra_timeout])
                return False
            # Delete the template first so Substrate cannot re-create the golden actor from it.
            with contextlib.suppress(kerr.NotFound):
                await self.d.kube.delete(ACTOR_TEMPLATE, tname, ns, uid=template["metadata"]["uid"])
        if golden and not await actors.delete_step(self.d.ate, golden, ours):
            await self._write(harness, [*st.deleting_golden(), *extra_timeout])
            return False
        return True
