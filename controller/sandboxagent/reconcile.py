"""SandboxAgent reconcile (spec/sandboxagent_helm.md §5 with SPEC §5-6): orchestration only.

``platform: substrate`` agents only. Level-based: read the live agent, converge the owned config
Secret and ActorTemplate, set Accepted / UnsupportedFeatures / Ready every pass and write status
only when it changed (observedGeneration on every path). Ready follows the template's golden
snapshot; sessions are the gateway's. Deletion, across passes: every session actor found by
the template (never by id prefix), then the template and the golden actor, then the finalizer.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any, Final

from controller import objects
from controller.config import ControllerConfig
from controller.harness import inputs as harness_inputs
from controller.harness.reconcile import Events
from controller.harness.template import (
    TemplateError,
    controller_uid,
    resolve_pool,
)
from controller.objects import GOLDEN_ANNOTATION, SKIP_CLEANUP
from controller.runtime.cache import Reader
from controller.runtime.result import Result
from controller.sandboxagent import config as files
from controller.sandboxagent import rollout
from controller.sandboxagent import status as st
from controller.sandboxagent import template as tpl
from controller.sandboxagent.sessions import SessionActors
from shared.api.keys import ObjectKey
from shared.ateapi import errors as ate
from shared.conditions import now_rfc3339
from shared.kube import errors as kerr
from shared.kube.client import KubeClient
from shared.kube.resources import ACTOR_TEMPLATE, CONFIG_MAP, SANDBOX_AGENT, SECRET, WORKER_POOL
from shared.naming import sandbox_template_name

log = logging.getLogger(__name__)

FINALIZER: Final = "kagent.dev/sandbox-agent-substrate-cleanup"
DEFAULT_MODEL_CONFIG: Final = "default-model-config"


class BuildError(ValueError):
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


def is_substrate(agent: dict[str, Any]) -> bool:
    """Whether this controller owns the agent (``spec.platform: substrate``)."""
    return (agent.get("spec") or {}).get("platform") == "substrate"


def template_key(agent: dict[str, Any]) -> tuple[str, str]:
    """(namespace, name) of the agent's ActorTemplate: session actors are found by it."""
    meta = agent["metadata"]
    return meta["namespace"], sandbox_template_name(meta["namespace"], meta["name"])


class SandboxAgentReconciler:
    """Converges one SandboxAgent (platform substrate) per call."""

    def __init__(self, deps: SandboxDeps) -> None:
        self.d = deps
        self.read: Reader = deps.reader or deps.kube

    async def __call__(self, key: ObjectKey) -> Result:
        agent = await objects.get_live(self.d.kube, SANDBOX_AGENT, key)
        if agent is None:
            return Result()
        if not is_substrate(agent):
            return Result()
        meta = agent["metadata"]
        if meta.get("deletionTimestamp"):
            return await self._delete(agent)
        agent = await objects.ensure_finalizer(self.d.kube, SANDBOX_AGENT, agent, FINALIZER)
        return await self._ensure(agent)

    # --- ensure ----------------------------------------------------------------------------

    async def _ensure(self, agent: dict[str, Any]) -> Result:
        cfg = self.d.config
        spec = agent.get("spec") or {}
        unsupported = st.unsupported(spec)
        try:
            agent, template = await self._ensure_objects(agent)
            agent = await rollout.retire_step(
                self.d.kube, self.d.sessions, agent, template_key(agent)
            )
        except kerr.Invalid as exc:
            await self._write(
                agent, [*st.reconcile_failed(f"reconcile objects: {exc}"), unsupported]
            )
            return Result(requeue_after=cfg.resync_period)
        except (BuildError, TemplateError, harness_inputs.InputsError) as exc:
            await self._write(agent, [*st.reconcile_failed(str(exc)), unsupported])
            return Result(requeue_after=cfg.resync_period)
        phase = str((template.get("status") or {}).get("phase") or "")
        if phase == "Failed":
            ready = st.template_failed(objects.template_message(template))
            result = Result()
        elif objects.template_ready(template):
            ready, result = st.workload_ready(), Result(requeue_after=cfg.resync_period)
        else:
            ready, result = st.template_not_ready(), Result(requeue_after=cfg.not_ready_requeue)
        await self._write(agent, [st.accepted(), unsupported, ready])
        return result

    async def _ensure_objects(self, agent: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        meta, spec = agent["metadata"], agent.get("spec") or {}
        ns, name = meta["namespace"], meta["name"]
        if problem := st.validation_error(spec):
            raise BuildError(problem)
        prefix = f"failed to build manifest for sandboxagent {ns}/{name}: build sandbox workload"
        pool = resolve_pool(ns, spec.get("substrate") or {}, self.d.config.defaults)
        try:
            await self.read.get(WORKER_POOL, pool[1], pool[0])
        except kerr.NotFound:
            raise BuildError(f"{prefix}: get WorkerPool {pool[0]}/{pool[1]}: not found") from None
        declarative = spec.get("declarative") or {}
        model_ref = str(declarative.get("modelConfig") or "").strip() or DEFAULT_MODEL_CONFIG
        settings = await harness_inputs.model_settings(self.read, ns, model_ref)
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
            message = f"{prefix}: {exc}"
            await self.d.events(agent, "Warning", "MissingAgentContainer", "BuildTemplate", message)
            raise BuildError(message) from None
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
        try:
            obj = await self.read.get(res, name, ns)
        except kerr.NotFound:
            raise BuildError(f"systemMessageFrom: {kind} {ns}/{name} not found") from None
        data = obj.get("data") or {}
        if key not in data:
            raise BuildError(f'systemMessageFrom: {kind} {ns}/{name} has no key "{key}"')
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
            raise BuildError(
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

    async def _delete(self, agent: dict[str, Any]) -> Result:
        meta = agent["metadata"]
        if FINALIZER not in (meta.get("finalizers") or []):
            return Result()
        if (meta.get("annotations") or {}).get(SKIP_CLEANUP) == "true":
            await self.d.events(
                agent,
                "Warning",
                "CleanupSkipped",
                "DeleteSandboxAgent",
                f"{SKIP_CLEANUP} is set: substrate session and golden actors were not deleted",
            )
            await objects.remove_finalizer(self.d.kube, SANDBOX_AGENT, agent, FINALIZER)
            return Result()
        age, timeout = objects.deletion_age(meta, self.d.clock()), self.d.config.delete_timeout
        poll = objects.deletion_poll(age, timeout, min(self.d.config.not_ready_requeue, 2.0))
        timed_out = age > timeout
        extra = [st.delete_timeout()] if timed_out else []
        try:
            done = await self._delete_actors(agent, extra)
        except (ate.Unavailable, ate.DeadlineExceeded) as exc:
            await self._write(agent, [st.substrate_unavailable(str(exc)), *extra])
            return Result(requeue_after=self.d.config.not_ready_requeue)
        except ate.AteApiError as exc:
            note = f"substrate cleanup: {exc}"
            await self.d.events(
                agent, "Warning", "SandboxAgentDeleteFailed", "DeleteSandboxAgent", note
            )
            raise
        if not done:
            return Result(requeue_after=poll)
        await objects.remove_finalizer(self.d.kube, SANDBOX_AGENT, agent, FINALIZER)
        return Result()

    async def _delete_actors(self, agent: dict[str, Any], extra: list[st.Cond]) -> bool:
        meta = agent["metadata"]
        ns, tname = template_key(agent)
        golden = (meta.get("annotations") or {}).get(GOLDEN_ANNOTATION, "")
        try:
            template: dict[str, Any] | None = await self.d.kube.get(ACTOR_TEMPLATE, tname, ns)
        except kerr.NotFound:
            template = None
        owner = controller_uid(template) if template is not None else None
        if owner is not None and owner != meta["uid"]:
            # Another object's template: its actors are not ours either. We never created any
            # from it (the template check refuses before any actor), so there is nothing to do.
            return True
        if owner is None:
            template = None  # not provably ours: never delete it
        if template is not None:
            golden = (
                str((template.get("status") or {}).get("goldenActorID") or "").strip() or golden
            )
        # 1. sessions (every actor of our template except the golden one)
        left = await self.d.sessions.delete_all_step((ns, tname), exclude=golden)
        if left:
            await self._write(agent, [st.deleting(left), *extra])
            return False
        # 2. the template (so Substrate cannot re-create the golden actor), then the golden actor
        if template is not None:
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
        await objects.write_status(
            self.d.kube, SANDBOX_AGENT, agent, wanted, now_rfc3339(self.d.clock())
        )
