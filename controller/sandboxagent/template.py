"""The owned objects of a substrate SandboxAgent (spec/sandboxagent_helm.md §4), pure and stable.

`config_secret` is the Secret ``<name>`` holding the agent's files; `desired_template` is the
ActorTemplate ``asr-<name>`` (never a harness template's name, SPEC §5) with one container
``kagent``, an explicit command (Substrate never uses the image ENTRYPOINT) and the env contract
of §4.3. Same agent + same inputs -> the same dicts.
"""

from __future__ import annotations

import base64
from typing import Any, Final

from controller.harness.claw import sanitize_env, secret_env
from controller.harness.template import (
    SubstrateDefaults,
    TemplateError,
    actor_template,
)
from controller.objects import owner_reference
from controller.sandboxagent.config import CARD_KEY, CONFIG_KEY, SRT_KEY, Model
from shared.naming import (
    SANDBOX_LABEL,
    SANDBOX_PREFIX,
    label_value,
    sandbox_template_name,
)

# Go ADK agent runtime (spec §4.4). Releases pin the digest they were tested with; clusters
# override it with --sandbox-runtime-image.
DEFAULT_RUNTIME_IMAGE: Final = (
    "cr.kagent.dev/kagent-dev/kagent/golang-adk@sha256:"
    "7c1e4b2a9d3f5e6081a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e4"
)
CONTAINER_NAME: Final = "kagent"
COMMAND: Final = ("/app", "--host", "0.0.0.0", "--port", "80")
SRT_PATH: Final = "/config/srt-settings.json"


def choose_image(configured: str, registry: str = "") -> str:
    """The runtime image: the controller's (or the default), registry replaced when asked."""
    image = configured.strip() or DEFAULT_RUNTIME_IMAGE
    if not image:
        raise TemplateError("workload image is required")
    if "@" not in image:
        raise TemplateError(f'workload image "{image}" must be pinned with a digest (@sha256:...)')
    registry = registry.strip().rstrip("/")
    if registry and "/" in image:
        image = registry + image[image.index("/") :]
    return image


def actor_env(agent: dict[str, Any], model: Model | None, has_srt: bool) -> list[dict[str, Any]]:
    """The env of §4.3, sanitised: literals and secretKeyRefs only, first kept entry wins."""
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
        *(e for e in deployment.get("env") or [] if isinstance(e, dict)),
    ]
    if model is not None and model.api_key_env:
        env.append(secret_env(model.api_key_env, model.api_key_secret, model.api_key_secret_key))
    if has_srt:
        env.append({"name": "KAGENT_SRT_SETTINGS_PATH", "value": SRT_PATH})
    return sanitize_env(env)


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
    image: str,
    env: list[dict[str, Any]],
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
        container={"name": CONTAINER_NAME, "image": image, "command": list(COMMAND), "env": env},
        pool=pool,
        defaults=defaults,
    )
