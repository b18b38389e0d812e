"""Which SandboxAgents this controller owns and where their session actors come from (the
gateway reads both; it never imports the reconciler)."""

from __future__ import annotations

from typing import Any

from shared.naming import sandbox_template_name


def is_substrate(agent: dict[str, Any]) -> bool:
    """Whether this controller owns the agent (``spec.platform: substrate``)."""
    return (agent.get("spec") or {}).get("platform") == "substrate"


def template_key(agent: dict[str, Any]) -> tuple[str, str]:
    """(namespace, name) of the agent's ActorTemplate: session actors are found by it."""
    meta = agent["metadata"]
    return meta["namespace"], sandbox_template_name(meta["namespace"], meta["name"])
