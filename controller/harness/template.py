"""The desired ActorTemplate of an AgentHarness (spec/agentharness.md §4), pure and byte-stable.

Same harness + same resolved inputs -> the same dict, so an unchanged harness never causes a
template update (and never a needless golden snapshot). The skeleton, the WorkerPool and the
semantic compare are `controller.substrate.template`'s.
"""

from __future__ import annotations

from typing import Any, Final

from controller.substrate.defaults import SubstrateDefaults
from controller.substrate.template import actor_template, require_digest
from shared.naming import HARNESS_LABEL, HARNESS_PREFIX, harness_template_name, label_value

DEFAULT_WORKLOAD_IMAGE: Final = (
    "ghcr.io/kagent-dev/nemoclaw/sandbox-base@sha256:"
    "d52bee415dc4c0dba7164f9eabe727574c056d4f211781f20af249707883a3b4"
)
CONTAINER_NAME: Final = "openclaw"


def choose_image(spec_image: str | None) -> str:
    """The workload image: the harness's (trimmed) or the pinned default; must carry a digest."""
    image = (spec_image or "").strip() or DEFAULT_WORKLOAD_IMAGE
    return require_digest(image)


def desired_template(
    harness: dict[str, Any],
    *,
    pool: tuple[str, str],
    image: str,
    script: str,
    env: list[dict[str, Any]],
    defaults: SubstrateDefaults,
) -> dict[str, Any]:
    """The ActorTemplate of a harness: one ``openclaw`` container running the startup script."""
    meta = harness["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    return actor_template(
        harness,
        owner_kind="AgentHarness",
        name=harness_template_name(namespace, name),
        labels={HARNESS_LABEL: label_value(name, HARNESS_PREFIX, namespace)},
        container={
            "name": CONTAINER_NAME,
            "image": image,
            "command": ["/bin/sh", "-c", script],
            "env": env,
        },
        pool=pool,
        defaults=defaults,
    )
