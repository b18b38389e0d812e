"""SandboxAgent reconcile (spec/sandboxagent_helm.md §5 with SPEC §5-6): the kind's steps.

``platform: substrate`` agents only. Level-based: converge the owned config Secret and
ActorTemplate, set Accepted / UnsupportedFeatures / Ready every pass and write status only when
it changed (observedGeneration on every path). Ready follows the template's golden snapshot;
sessions are the gateway's. Deletion, across passes: every session actor found by the template
(never by id prefix), then the template and the golden actor, then the finalizer. The pass
skeleton and the outcome mapping are `controller.substrate.reconciler`'s.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any, Final

from controller.config import ControllerConfig
from controller.runtime.cache import Reader
from controller.runtime.result import Result
from controller.sandboxagent import config as files
from controller.sandboxagent import rollout
from controller.sandboxagent import status as st
from controller.sandboxagent import template as tpl
from controller.sandboxagent.identity import is_substrate, template_key
from controller.sandboxagent.sessions import SessionActors
from controller.substrate import objects
from controller.substrate.events import Events
from controller.substrate.metrics import ObjectMetrics
from controller.substrate.model import model_settings
from controller.substrate.objects import GOLDEN_ANNOTATION
from controller.substrate.outcome import OwnershipConflict, SpecError
from controller.substrate.reconciler import ObjectReconciler
from controller.substrate.references import missing_key, read_reference
from controller.substrate.template import controller_uid, owned_template, read_pool
from shared.ateapi import errors as ate
from shared.conditions import now_rfc3339
from shared.kube import errors as kerr
from shared.kube.client import KubeClient
from shared.kube.resources import ACTOR_TEMPLATE, CONFIG_MAP, SANDBOX_AGENT, SECRET

log = logging.getLogger(__name__)

FINALIZER: Final = "kagent.dev/sandbox-agent-substrate-cleanup"


class BuildError(SpecError):
    """The agent cannot be turned into its objects; the message is the condition text."""


@dataclass(frozen=True, slots=True)
class SandboxDeps:
    """What the reconciler needs, built once by the composition root."""

    kube: KubeClient
    sessions: SessionActors
    events: Events
    config: ControllerConfig
    clock: Any = field(default=lambda: dt.datetime.now(dt.UTC))
    """() -> aware datetime (condition times, delete timeout)."""
    reader: Reader | None = None
    """Reads of what the agent references (watch caches); None: live GETs."""
    metrics: ObjectMetrics | None = None
    """Time-to-Ready observations (None: not measured)."""


class SandboxAgentReconciler(ObjectReconciler):
    """Converges one SandboxAgent (platform substrate) per call."""

    resource = SANDBOX_AGENT
    finalizer = FINALIZER
    kind = "SandboxAgent"
    skip_note = "substrate session and golden actors were not deleted"
    invalid_prefix = "reconcile objects"

    def __init__(self, deps: SandboxDeps) -> None:
        super().__init__(deps.kube, deps.events, deps.config, deps.clock, deps.metrics)
        self.d = deps
        self.read: Reader = deps.reader or deps.kube

    def owns(self, obj: dict[str, Any]) -> bool:
        return is_substrate(obj)

    async def write_failed(self, obj: dict[str, Any], message: str) -> None:
        unsupported = st.unsupported(obj.get("spec") or {})
        await self._write(obj, [*st.reconcile_failed(message), unsupported])

    # --- ensure ----------------------------------------------------------------------------

    async def ensure(self, obj: dict[str, Any]) -> Result:
        cfg = self.d.config
        agent, template = await self._ensure_objects(obj)
        agent = await rollout.retire_step(self.d.kube, self.d.sessions, agent, template_key(agent))
        phase = str((template.get("status") or {}).get("phase") or "")
        if phase == "Failed":
            ready = st.template_failed(objects.template_message(template))
            result = Result()
        elif objects.template_ready(template):
            ready, result = st.workload_ready(), Result(requeue_after=cfg.resync_period)
        else:
            # No timer: the ActorTemplate watch (Owns) re-enqueues the agent when the template's
            # status changes, as the reference does (spec/sandboxagent_helm.md §5.3).
            ready, result = st.template_not_ready(), Result()
        await self._write(agent, [st.accepted(), st.unsupported(agent.get("spec") or {}), ready])
        if rollout.retired_ids(agent):  # previous golden actors still to delete: keep stepping
            return Result(requeue_after=cfg.not_ready_requeue)
        return result

    async def _ensure_objects(self, agent: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        meta, spec = agent["metadata"], agent.get("spec") or {}
        ns, name = meta["namespace"], meta["name"]
        if problem := st.validation_error(spec):
            raise BuildError(problem)
        prefix = f"failed to build manifest for sandboxagent {ns}/{name}: build sandbox workload"
        substrate = spec.get("substrate") or {}
        pool = await read_pool(self.read, ns, substrate, self.d.config.defaults, prefix=prefix)
        declarative = spec.get("declarative") or {}
        model_ref = str(declarative.get("modelConfig") or "").strip() or files.DEFAULT_MODEL_CONFIG
        settings = await model_settings(self.read, ns, model_ref, "spec.declarative.modelConfig")
        model = files.Model(
            provider=settings.provider,
            model=settings.model,
            api_key_secret=settings.api_key_secret,
            api_key_secret_key=settings.api_key_secret_key,
            base_url=settings.base_url,
        )
        system_message = await self._system_message(ns, declarative)
        registry = str((declarative.get("deployment") or {}).get("imageRegistry") or "")
        image = tpl.choose_image(self.d.config.sandbox_runtime_image, registry)
        data = files.secret_files(agent, model, system_message)
        callbacks = tpl.AgentCallbacks(
            kagent_url=self.d.config.kagent_url, otel_env=self.d.config.actor_otel_env
        )
        env = tpl.actor_env(
            agent,
            model,
            has_srt=files.SRT_KEY in data,
            config_hash=files.config_hash(data),
            callbacks=callbacks,
        )
        try:
            container = tpl.agent_container(tpl.workload_pod(agent, image=image, env=env))
        except tpl.MissingAgentContainer as exc:
            raise BuildError(f"{prefix}: {exc}", reason="MissingAgentContainer") from None
        await self._ensure_secret(agent, tpl.config_secret(agent, data))
        desired = tpl.desired_template(
            agent, pool=pool, container=container, defaults=self.d.config.defaults
        )
        return await rollout.ensure_template(self.d.kube, agent, desired)

    async def _system_message(self, ns: str, declarative: dict[str, Any]) -> str | None:
        source = declarative.get("systemMessageFrom")
        if not isinstance(source, dict):
            return None
        kind, name, key = source.get("type"), str(source.get("name")), str(source.get("key"))
        res = SECRET if kind == "Secret" else CONFIG_MAP
        what, field = f"systemMessageFrom: {kind}", "spec.declarative.systemMessageFrom"
        obj = await read_reference(self.read, res, ns, name, field=field, what=what)
        data = obj.get("data") or {}
        if key not in data:
            raise missing_key(res, ns, name, key, f'{what} {ns}/{name} has no key "{key}"')
        if kind == "Secret":
            return base64.b64decode(data[key]).decode("utf-8", "replace")
        return str(data[key])

    async def _ensure_secret(self, agent: dict[str, Any], desired: dict[str, Any]) -> None:
        ns, sname = desired["metadata"]["namespace"], desired["metadata"]["name"]
        try:
            live = await self.d.kube.get(SECRET, sname, ns)
        except kerr.NotFound:
            with contextlib.suppress(kerr.AlreadyExists):
                await self.d.kube.create(SECRET, desired, ns)
            return
        if controller_uid(live) != agent["metadata"]["uid"]:
            raise OwnershipConflict(
                f"Secret {ns}/{sname} exists and is not owned by this SandboxAgent; "
                "delete or rename it (the agent's config Secret has the agent's name)"
            )
        if live.get("data") != desired["data"] or any(
            (live["metadata"].get("labels") or {}).get(k) != v
            for k, v in desired["metadata"]["labels"].items()
        ):
            meta = {
                **live["metadata"],
                "labels": {
                    **(live["metadata"].get("labels") or {}),
                    **desired["metadata"]["labels"],
                },
            }
            await self.d.kube.replace(
                SECRET, {**live, "metadata": meta, "data": desired["data"]}, ns
            )

    # --- delete -----------------------------------------------------------------------------

    async def delete_unavailable(
        self, obj: dict[str, Any], exc: ate.AteApiError, timed_out: bool
    ) -> Result | None:
        extra = [st.delete_timeout()] if timed_out else []
        await self._write(obj, [st.substrate_unavailable(str(exc)), *extra])
        return Result(requeue_after=self.d.config.not_ready_requeue)

    async def delete_actors(self, obj: dict[str, Any], timed_out: bool) -> bool:
        agent, meta = obj, obj["metadata"]
        extra = [st.delete_timeout()] if timed_out else []
        ns, tname = template_key(agent)
        golden = (meta.get("annotations") or {}).get(GOLDEN_ANNOTATION, "")
        template, foreign = await owned_template(self.d.kube, ns, tname, meta["uid"])
        if foreign:
            # Another object's template: its actors are not ours either. We never created any
            # from it (the template check refuses before any actor), so there is nothing to do.
            return True
        if template is not None:
            golden = (
                str((template.get("status") or {}).get("goldenActorID") or "").strip() or golden
            )
        # 1. sessions (every actor of our template except the golden one)
        left = await self.d.sessions.delete_all_step((ns, tname), exclude=golden)
        if left:
            await self._write(agent, [st.deleting(left), *extra])
            return False
        # 2. the template (so Substrate cannot re-create the golden actor), then the golden actor;
        # a golden actor still booting is suspended first (ate-api cannot once the template is gone)
        if template is not None:
            if golden and not await self.d.sessions.quiesce_step((ns, tname), golden):
                await self._write(agent, [st.deleting(0), *extra])
                return False
            if golden and not (meta.get("annotations") or {}).get(GOLDEN_ANNOTATION):
                agent = await objects.patch_meta(
                    self.d.kube, SANDBOX_AGENT, agent, {"annotations": {GOLDEN_ANNOTATION: golden}}
                )
            with contextlib.suppress(kerr.NotFound):
                await self.d.kube.delete(ACTOR_TEMPLATE, tname, ns, uid=template["metadata"]["uid"])
        # 3. whatever is left of the template's actors (golden, stragglers) until none
        left = await self.d.sessions.delete_all_step((ns, tname))
        if left:
            await self._write(agent, [st.deleting(0), *extra])
            return False
        return True

    async def _write(self, agent: dict[str, Any], wanted: list[st.Cond]) -> None:
        now = now_rfc3339(self.d.clock())
        await self.write_ready_aware(
            agent,
            wanted,
            lambda: objects.write_status(self.d.kube, SANDBOX_AGENT, agent, wanted, now),
        )
