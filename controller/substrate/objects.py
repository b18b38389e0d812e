"""Kubernetes object helpers both reconcilers use: conditions, status writes, metadata patches,
finalizers, deletion age, ActorTemplate readiness. Writes happen only when something changed,
guarded by the resourceVersion that was read (conflicts are recomputed on the live object)."""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from typing import Any

from shared.api.keys import ObjectKey
from shared.conditions import Condition, set_condition
from shared.kube import errors as kerr
from shared.kube.client import KubeClient
from shared.kube.resources import Resource
from shared.kube.retry import patch_status

SKIP_CLEANUP = "kagent.dev/skip-substrate-cleanup"
"""Annotation: release the finalizer without deleting substrate actors (escape hatch)."""
READY = "Ready"
GOLDEN_ANNOTATION = "kagent.dev/golden-actor-id"
"""Annotation remembering the golden actor id once its ActorTemplate is deleted."""


@dataclass(frozen=True, slots=True)
class Cond:
    """One condition to set: (type, status, reason, message); ``status`` "" removes it."""

    type: str
    status: str
    reason: str = ""
    message: str = ""


def apply(conditions: list[Condition], wanted: list[Cond], generation: int, now: str) -> bool:
    """Set (or remove) every wanted condition in place; True when anything changed."""
    changed = False
    for c in wanted:
        if not c.status:
            before = len(conditions)
            conditions[:] = [x for x in conditions if x.get("type") != c.type]
            changed |= len(conditions) != before
            continue
        changed |= set_condition(conditions, c.type, c.status, c.reason, c.message, generation, now)
    return changed


def status_of(obj: dict[str, Any]) -> dict[str, Any]:
    """A mutable copy of the object's status (conditions list copied too)."""
    status = dict(obj.get("status") or {})
    status["conditions"] = [dict(c) for c in status.get("conditions") or []]
    return status


async def write_status(
    kube: KubeClient,
    res: Resource,
    obj: dict[str, Any],
    wanted: list[Cond],
    now: str,
    extra: dict[str, Any] | None = None,
) -> Cond | None:
    """Patch status when the conditions, ``extra`` fields or observedGeneration change; the
    ``Ready`` condition when this write turns it True (the caller records a Normal event)."""

    def compute(live: dict[str, Any]) -> dict[str, Any] | None:
        status = status_of(live)
        generation = int(live["metadata"].get("generation") or 0)
        changed = apply(status["conditions"], wanted, generation, now)
        for key, value in (extra or {}).items():
            if status.get(key) != value:
                status[key] = value
                changed = True
        if status.get("observedGeneration") != generation:
            status["observedGeneration"] = generation
            changed = True
        return status if changed else None

    if compute(obj) is None:
        return None
    meta = obj["metadata"]
    try:
        await patch_status(kube, res, meta["name"], meta["namespace"], compute)
    except kerr.NotFound:
        return None
    return became_ready(obj, wanted)


def became_ready(obj: dict[str, Any], wanted: list[Cond]) -> Cond | None:
    """The ``Ready`` condition ``wanted`` sets True while the object's is not True yet."""
    new = next((c for c in wanted if c.type == READY), None)
    if new is None or new.status != "True":
        return None
    old = (obj.get("status") or {}).get("conditions") or []
    was = next((c.get("status") for c in old if c.get("type") == READY), None)
    return None if was == "True" else new


async def patch_meta(
    kube: KubeClient, res: Resource, obj: dict[str, Any], changes: dict[str, Any]
) -> dict[str, Any]:
    """Merge-patch ``metadata`` fields, guarded by the object's resourceVersion."""
    meta = obj["metadata"]
    body = {"metadata": {**changes, "resourceVersion": meta["resourceVersion"]}}
    return await kube.patch(res, meta["name"], body, meta["namespace"])


async def get_live(kube: KubeClient, res: Resource, key: ObjectKey) -> dict[str, Any] | None:
    """The object to reconcile, read live (None when it is gone).

    Not from the watch cache: the reconciler writes this object and compares against it, so a
    cache one event behind would mean conflicts on metadata patches and skipped status writes.
    """
    try:
        return await kube.get(res, key.name, key.namespace)
    except kerr.NotFound:
        return None


async def ensure_finalizer(
    kube: KubeClient, res: Resource, obj: dict[str, Any], finalizer: str
) -> dict[str, Any]:
    """``obj`` with ``finalizer`` added (unless present already), as the server returns it."""
    finalizers = obj["metadata"].get("finalizers") or []
    if finalizer in finalizers:
        return obj
    return await patch_meta(kube, res, obj, {"finalizers": [*finalizers, finalizer]})


async def remove_finalizer(
    kube: KubeClient, res: Resource, obj: dict[str, Any], finalizer: str
) -> None:
    """Drop ``finalizer`` (the object may then disappear); a vanished object is fine."""
    remaining = [f for f in obj["metadata"].get("finalizers") or [] if f != finalizer]
    with contextlib.suppress(kerr.NotFound):
        await patch_meta(kube, res, obj, {"finalizers": remaining})


DELETE_POLL_CAP = 60.0
"""The longest wait between two cleanup checks of an object being deleted."""


def deletion_poll(age: float, timeout: float, base: float) -> float:
    """Seconds until the next cleanup check: ``base`` within ``--delete-timeout``, then a tenth
    of the overrun (cleanup is stuck: back off), never below ``base`` nor above 60 s."""
    if age <= timeout:
        return base
    return min(DELETE_POLL_CAP, max(base, (age - timeout) / 10))


def parse_time(raw: Any) -> dt.datetime | None:
    """An RFC 3339 timestamp as the API server writes it (None when absent or unparseable)."""
    try:
        moment = dt.datetime.fromisoformat(str(raw or "").replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def deletion_age(meta: dict[str, Any], now: dt.datetime) -> float:
    """Seconds since ``metadata.deletionTimestamp`` (0 when absent or unparseable)."""
    since = parse_time(meta.get("deletionTimestamp"))
    return 0.0 if since is None else float((now - since).total_seconds())


def not_ready_since(obj: dict[str, Any]) -> dt.datetime | None:
    """When the object's current not-Ready period began: the ``lastTransitionTime`` of its
    Ready condition when that is present and not True (it moves only when the status changes:
    when Ready left True, e.g. after a spec change, or when the first pass wrote it), else
    ``metadata.creationTimestamp``. None when neither parses."""
    conditions = (obj.get("status") or {}).get("conditions") or []
    ready = next((c for c in conditions if c.get("type") == READY), None)
    if ready is not None and ready.get("status") != "True":
        since = parse_time(ready.get("lastTransitionTime"))
        if since is not None:
            return since
    return parse_time(obj.get("metadata", {}).get("creationTimestamp"))


def template_ready(template: dict[str, Any]) -> bool:
    """Substrate's own notion: ``phase == Ready``. Substrate never re-snapshots after a spec
    edit (spec/ateapi.md §5.2), so a generation check would wait forever; an edited template
    applies to the next resume of the actor."""
    return (template.get("status") or {}).get("phase") == "Ready"


def template_message(template: dict[str, Any]) -> str:
    """The message of the template's Ready condition (why it Failed)."""
    status = template.get("status") or {}
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    return str((ready or {}).get("message") or "ActorTemplate phase is Failed")


def owner_reference(
    owner: dict[str, Any], kind: str, api_version: str = "kagent.dev/v1alpha2"
) -> dict[str, Any]:
    """The controller ownerReference of an object we create for ``owner``."""
    meta = owner["metadata"]
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }
