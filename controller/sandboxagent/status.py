"""Pure condition table of a substrate SandboxAgent (spec/sandboxagent_helm.md §5.3, §5.6; SPEC §6).

Unlike the reference (§9 #27) every pass sets all conditions and the status is written when
anything changed or ``observedGeneration`` moved. ``UnsupportedFeatures`` is removed when it
no longer applies.
"""

from __future__ import annotations

from typing import Any, Final

from controller.substrate.objects import Cond as Cond
from controller.substrate.objects import apply as apply
from controller.substrate.objects import status_of as status_of

ACCEPTED: Final = "Accepted"
READY: Final = "Ready"
UNSUPPORTED: Final = "UnsupportedFeatures"
TRUE, FALSE, UNKNOWN = "True", "False", "Unknown"

ACCEPTED_MSG: Final = "SandboxAgent configuration accepted"
TEMPLATE_NOT_READY_MSG: Final = "ActorTemplate golden snapshot is not ready"
TEMPLATE_READY_MSG: Final = "ActorTemplate golden snapshot is ready"
CODE_EXECUTION: Final = "code execution (executeCodeBlocks is deprecated)"
COMPACTION: Final = "context compression/compaction (not implemented in Go runtime)"


def accepted() -> Cond:
    """Configuration built and written."""
    return Cond(ACCEPTED, TRUE, "Reconciled", ACCEPTED_MSG)


def reconcile_failed(message: str) -> list[Cond]:
    """Validation or manifest build failed (pool, ModelConfig, image, foreign Secret...)."""
    return [
        Cond(ACCEPTED, FALSE, "ReconcileFailed", message),
        Cond(READY, FALSE, "ReconcileFailed", message),
    ]


def template_not_ready() -> Cond:
    """The template exists but its golden snapshot is not ready (watch-driven)."""
    return Cond(READY, FALSE, "ActorTemplateNotReady", TEMPLATE_NOT_READY_MSG)


def template_failed(message: str) -> Cond:
    """Substrate marked the template Failed (terminal until the template changes)."""
    return Cond(READY, FALSE, "TemplateFailed", message or "ActorTemplate phase is Failed")


def workload_ready() -> Cond:
    """Ready: the golden snapshot exists, so sessions can be created."""
    return Cond(READY, TRUE, "WorkloadReady", TEMPLATE_READY_MSG)


def unsupported(spec: dict[str, Any]) -> Cond:
    """UnsupportedFeatures for what the Go runtime ignores; a removal when nothing applies."""
    declarative = spec.get("declarative") or {}
    items = []
    if declarative.get("executeCodeBlocks"):
        items.append(CODE_EXECUTION)
    if (declarative.get("context") or {}).get("compaction"):
        items.append(COMPACTION)
    if not items:
        return Cond(UNSUPPORTED, "")
    message = (
        "The following features are not supported in Go runtime and will be ignored: "
        + ", ".join(items)
        + ". Consider using runtime: python or removing these configurations."
    )
    return Cond(UNSUPPORTED, TRUE, "UnsupportedFeatures", message)


def substrate_unavailable(message: str) -> Cond:
    """ate-api unreachable during cleanup; the controller keeps running and retries."""
    return Cond(READY, FALSE, "SubstrateUnavailable", message)


def deleting(count: int) -> Cond:
    """Cleanup in progress: session actors (or the golden actor) still exist."""
    what = f"{count} session actor(s)" if count else "the golden actor"
    return Cond(READY, FALSE, "Deleting", f"waiting for {what} to be deleted")


def delete_timeout() -> Cond:
    """Cleanup has taken longer than the delete timeout (it keeps retrying)."""
    return Cond(READY, FALSE, "DeleteTimeout", "substrate cleanup exceeded timeout")


def validation_error(spec: dict[str, Any]) -> str:
    """The server-side substrate checks of spec §2.3, first match wins ("" when valid)."""
    if spec.get("type") == "BYO":
        return "BYO agents are not supported when spec.platform is substrate"
    skills = spec.get("skills") or {}
    if isinstance(skills, dict) and (skills.get("refs") or skills.get("gitRefs")):
        return "spec.skills is not supported when spec.platform is substrate"
    runtime = str((spec.get("declarative") or {}).get("runtime") or "")
    if runtime and runtime != "go":
        return 'spec.declarative.runtime must be "go" when spec.platform is substrate'
    if not isinstance(spec.get("declarative"), dict):
        return "declarative must be specified if type is Declarative"
    return ""
