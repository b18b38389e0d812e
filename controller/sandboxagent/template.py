"""The owned objects of a substrate SandboxAgent (spec/sandboxagent_helm.md §4), pure and stable.

`config_secret` is the Secret ``<name>`` holding the agent's files; `desired_template` is the
ActorTemplate ``asr-<name>`` (never a harness template's name, SPEC §5) with one container
``kagent``, an explicit command (Substrate never uses the image ENTRYPOINT) and the env contract
of §4.3. As the reference, that container is taken from the pod template the translator builds
(`workload_pod`, the agent container then ``deployment.extraContainers``) by name
(`agent_container`); the image is the controller's, with no built-in default (`choose_image`).
Same agent + same inputs -> the same dicts.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Final

from controller.sandboxagent.config import CARD_KEY, CONFIG_KEY, SRT_KEY, Model
from controller.substrate.defaults import SubstrateDefaults
from controller.substrate.env import sanitize_env, secret_env
from controller.substrate.objects import owner_reference
from controller.substrate.template import TemplateError, actor_template, require_digest
from shared.naming import (
    SANDBOX_LABEL,
    SANDBOX_PREFIX,
    label_value,
    sandbox_template_name,
)

CONTAINER_NAME: Final = "kagent"
CONFIG_HASH_ENV: Final = "KAGENT_CONFIG_HASH"
MISSING_CONTAINER: Final = (
    f"pod template is missing the {CONTAINER_NAME} container: the ActorTemplate runs only the "
    f'container named "{CONTAINER_NAME}"'
)
COMMAND: Final = ("/app", "--host", "0.0.0.0", "--port", "80")
SRT_PATH: Final = "/config/srt-settings.json"


# No built-in default (spec §4.4: the reference fails when no digest was linked in): the Go ADK
# image is whatever the cluster runs, so the operator names it.
RUNTIME_IMAGE_MISSING: Final = (
    "no Go ADK runtime image is configured for SandboxAgent actors: start the controller with "
    "--sandbox-runtime-image=<registry>/<repository>/golang-adk@sha256:<digest> "
    "(env KAGENT_SUBSTRATE_CONTROLLER_SANDBOX_RUNTIME_IMAGE; Helm value controller.sandboxRuntimeImage)"
)


class MissingAgentContainer(TemplateError):
    """The pod template has no ``kagent`` container (the reference's refusal)."""


@dataclass(frozen=True, slots=True)
class AgentCallbacks:
    """Controller settings every actor receives (spec §4.3 item 6)."""

    kagent_url: str = ""
    """``KAGENT_URL``: where the agent calls kagent back; omitted when empty."""
    otel_env: tuple[tuple[str, str], ...] = ()
    """The controller's ``OTEL_*`` settings, copied sorted by name; empty values are dropped."""


def choose_image(configured: str, registry: str = "") -> str:
    """The runtime image the controller was given, registry replaced when asked."""
    image = configured.strip()
    if not image:
        raise TemplateError(RUNTIME_IMAGE_MISSING)
    require_digest(image)
    registry = registry.strip().rstrip("/")
    if registry and "/" in image:
        image = registry + image[image.index("/") :]
    return image


def actor_env(
    agent: dict[str, Any],
    model: Model | None,
    has_srt: bool,
    *,
    config_hash: str,
    callbacks: AgentCallbacks,
) -> list[dict[str, Any]]:
    """The env of §4.3, sanitised: literals and secretKeyRefs only, first kept entry wins.

    ``KAGENT_CONFIG_HASH`` (ours) is the content hash of the config Secret: an edited agent
    changes the template, so Substrate rebuilds the golden snapshot (reference §9 #10).
    """
    meta, spec = agent["metadata"], agent.get("spec") or {}
    name = meta["name"]
    deployment = (spec.get("declarative") or {}).get("deployment") or {}
    srt_ref = secret_env("KAGENT_SRT_SETTINGS_JSON", name, SRT_KEY)
    srt_ref["valueFrom"]["secretKeyRef"]["optional"] = True
    env: list[dict[str, Any]] = [
        {"name": "KAGENT_NAME", "value": name},
        {"name": "KAGENT_NAMESPACE", "value": meta["namespace"]},
        secret_env("KAGENT_CONFIG_JSON", name, CONFIG_KEY),
        secret_env("KAGENT_AGENT_CARD_JSON", name, CARD_KEY),
        srt_ref,
        {"name": CONFIG_HASH_ENV, "value": config_hash},
        *(e for e in deployment.get("env") or [] if isinstance(e, dict)),
    ]
    if model is not None and model.api_key_env:
        env.append(secret_env(model.api_key_env, model.api_key_secret, model.api_key_secret_key))
    env += [{"name": k, "value": v} for k, v in sorted(callbacks.otel_env) if v.strip()]
    if callbacks.kagent_url:
        env.append({"name": "KAGENT_URL", "value": callbacks.kagent_url})
    if has_srt:
        env.append({"name": "KAGENT_SRT_SETTINGS_PATH", "value": SRT_PATH})
    return sanitize_env(env)


def workload_pod(agent: dict[str, Any], *, image: str, env: list[dict[str, Any]]) -> dict[str, Any]:
    """The pod spec the reference's translator builds: the agent container, then sidecars."""
    deployment = ((agent.get("spec") or {}).get("declarative") or {}).get("deployment") or {}
    main = {"name": CONTAINER_NAME, "image": image, "command": list(COMMAND), "env": env}
    extra = [c for c in deployment.get("extraContainers") or [] if isinstance(c, dict)]
    return {"containers": [main, *extra]}


def agent_container(pod: dict[str, Any]) -> dict[str, Any]:
    """The container named ``kagent`` (the only one an actor runs); refused when absent.

    Stricter than the reference, which fell back to the first container: running a sidecar as
    the agent is never what was meant.
    """
    for container in pod.get("containers") or []:
        if isinstance(container, dict) and container.get("name") == CONTAINER_NAME:
            return {k: container[k] for k in ("name", "image", "command", "env") if k in container}
    raise MissingAgentContainer(MISSING_CONTAINER)


def config_secret(agent: dict[str, Any], files: dict[str, str]) -> dict[str, Any]:
    """The config Secret ``<name>`` (labels of §4.1, controller ownerReference)."""
    meta = agent["metadata"]
    name = meta["name"]
    labels = {
        "app": "kagent",
        "kagent": label_value(name, SANDBOX_PREFIX, meta["namespace"]),
        "app.kubernetes.io/managed-by": "kagent",
        "app.kubernetes.io/part-of": "kagent",
        "app.kubernetes.io/name": label_value(name, SANDBOX_PREFIX, meta["namespace"]),
    }
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": name,
            "namespace": meta["namespace"],
            "labels": labels,
            "ownerReferences": [owner_reference(agent, "SandboxAgent")],
        },
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in sorted(files.items())},
    }


def desired_template(
    agent: dict[str, Any],
    *,
    pool: tuple[str, str],
    container: dict[str, Any],
    defaults: SubstrateDefaults,
) -> dict[str, Any]:
    """The ActorTemplate of a SandboxAgent: one ``kagent`` container (spec §4.2)."""
    meta = agent["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    return actor_template(
        agent,
        owner_kind="SandboxAgent",
        name=sandbox_template_name(namespace, name),
        labels={SANDBOX_LABEL: label_value(name, SANDBOX_PREFIX, namespace)},
        container=container,
        pool=pool,
        defaults=defaults,
    )
