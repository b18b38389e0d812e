"""The Substrate template controller (spec §5.2), as a pure unit over injected ports.

``reconcile(obj)`` reads one ActorTemplate (a JSON dict), calls ate-api through `ActorOps`,
writes status through `StatusWriter`, and returns when to look again. Kubernetes plumbing
lives in `kubewatch`; tests drive this with fakes.

Deliberate improvements over the reference (docs/devstack-substrate.md):
- an invalid spec (unpinned image, bad container name, missing pool namespace, bad snapshot
  location) goes to phase ``Failed`` with a message and ``Ready=False/InvalidSpec`` instead of
  failing later at resume; a spec change (new generation) starts over;
- the golden actor id is a UUID derived from the template's uid, so a failed status write
  after CreateActor adopts the actor on retry instead of leaking a second one;
- the warm-up before the golden snapshot is configurable (reference: fixed 20 s).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from devstack.substrate.errors import SimError

DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
HASH = re.compile(r"^[0-9a-f]{64}$")
READY_MESSAGE = "Actor template is ready for use"


class ActorOps(Protocol):
    """The ate-api calls the controller makes."""

    async def create_actor(self, actor_id: str, namespace: str, name: str) -> None:
        """CreateActor; raises `SimError`."""

    async def resume_actor(self, actor_id: str) -> None:
        """ResumeActor; raises `SimError`."""

    async def suspend_actor(self, actor_id: str) -> str:
        """SuspendActor; returns the actor's last_snapshot."""


class StatusWriter(Protocol):
    """Writes the status subresource (JSON merge patch of ``status``)."""

    async def write_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        """Merge ``status`` into the object's status."""


class TemplateError(Exception):
    """A reconcile error; the caller retries with capped backoff."""


def _pinned(image: Any) -> bool:
    return isinstance(image, str) and bool(DIGEST.search(image))


def validate_spec(spec: Any) -> list[str]:
    """Problems that make the template unusable, each naming the field and the fix."""
    if not isinstance(spec, dict):
        return ["spec is required"]
    problems: list[str] = []
    pin = (
        "pin it by digest (image@sha256:<64 hex digits>): changing the image invalidates snapshots"
    )
    if not _pinned(spec.get("pauseImage")):
        problems.append(f"spec.pauseImage {spec.get('pauseImage')!r} is not digest-pinned; {pin}")
    seen: set[str] = set()
    for i, container in enumerate(spec.get("containers") or []):
        name = container.get("name") if isinstance(container, dict) else None
        where = f"spec.containers[{i}]"
        if not isinstance(name, str) or len(name) > 63 or not DNS_LABEL.match(name):
            problems.append(f"{where}.name {name!r} must be a DNS label (a-z, 0-9, '-', <= 63)")
        elif name == "pause" or name in seen:
            problems.append(f"{where}.name {name!r} must be unique and not 'pause'")
        seen.add(str(name))
        image = container.get("image") if isinstance(container, dict) else None
        if not _pinned(image):
            problems.append(f"{where}.image {image!r} is not digest-pinned; {pin}")
    location = (spec.get("snapshotsConfig") or {}).get("location")
    parts = urlsplit(location) if isinstance(location, str) else None
    if not parts or not parts.scheme or not parts.hostname or parts.query or parts.fragment:
        problems.append(
            f"spec.snapshotsConfig.location {location!r} must be a URI with a bucket, "
            "e.g. gs://bucket/prefix (no query, fragment or user info)"
        )
    elif parts.username:
        problems.append("spec.snapshotsConfig.location must not carry user info")
    pool = spec.get("workerPoolRef") or {}
    for key in ("name", "namespace"):
        if not (isinstance(pool, dict) and pool.get(key)):
            problems.append(f"spec.workerPoolRef.{key} is required: name the WorkerPool's {key}")
    runsc = spec.get("runsc")
    if not isinstance(runsc, dict):
        problems.append("spec.runsc is required")
    else:
        for arch in ("amd64", "arm64"):
            entry = runsc.get(arch)
            if entry is None:
                continue
            if not isinstance(entry, dict) or not HASH.match(str(entry.get("sha256Hash", ""))):
                problems.append(f"spec.runsc.{arch}.sha256Hash must be 64 lower-case hex digits")
            if not isinstance(entry, dict) or not entry.get("url"):
                problems.append(f"spec.runsc.{arch}.url is required")
    return problems


def _ready_condition(status: dict[str, Any]) -> dict[str, Any]:
    for cond in status.get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == "Ready":
            return cond
    return {}


def golden_actor_id(uid: str, generation: int) -> str:
    """A UUID stable per template object and generation (so a retry adopts, never leaks)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ate.dev/actortemplate/{uid}/{generation}"))


def _rfc3339(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@dataclass
class TemplateController:
    """Walks ``"" → ResumeGoldenActor → WaitGoldenActor → Ready`` (or ``Failed``)."""

    ops: ActorOps
    writer: StatusWriter
    warmup: float = 20.0
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)

    async def reconcile(self, obj: dict[str, Any]) -> float | None:
        """One pass; returns seconds until the next pass, or None to wait for a change."""
        meta = obj.get("metadata") or {}
        if meta.get("deletionTimestamp"):
            return None
        ns, name = meta.get("namespace", ""), meta.get("name", "")
        generation = int(meta.get("generation") or 1)
        status = obj.get("status") or {}
        phase = status.get("phase") or ""
        problems = validate_spec(obj.get("spec"))
        if problems:
            message = "; ".join(problems)
            cond = _ready_condition(status)
            if (
                phase != "Failed"
                or cond.get("message") != message
                or cond.get("observedGeneration") != generation
            ):
                await self.writer.write_status(ns, name, self._failed(message, generation))
            return None
        if phase == "Failed":
            if _ready_condition(status).get("observedGeneration") == generation:
                return None
            phase = ""  # the spec changed and is valid now: start over
        if phase == "":
            golden = golden_actor_id(str(meta.get("uid") or f"{ns}/{name}"), generation)
            try:
                await self.ops.create_actor(golden, ns, name)
            except SimError as err:
                if err.code != "ALREADY_EXISTS":
                    raise TemplateError(f"create golden actor {golden}: {err.message}") from err
            await self.writer.write_status(
                ns,
                name,
                {
                    "phase": "ResumeGoldenActor",
                    "goldenActorID": golden,
                    "conditions": None,
                },
            )
            return 0.0
        golden = str(status.get("goldenActorID") or "")
        if phase == "ResumeGoldenActor":
            try:
                await self.ops.resume_actor(golden)
            except SimError as err:
                raise TemplateError(f"resume golden actor {golden}: {err.message}") from err
            at = self.now() + dt.timedelta(seconds=self.warmup)
            await self.writer.write_status(
                ns, name, {"phase": "WaitGoldenActor", "takeGoldenSnapshotAt": _rfc3339(at)}
            )
            return self.warmup
        if phase == "WaitGoldenActor":
            at = dt.datetime.fromisoformat(str(status.get("takeGoldenSnapshotAt")))
            wait = (at - self.now()).total_seconds()
            if wait > 0:
                return wait
            try:
                snapshot = await self.ops.suspend_actor(golden)
            except SimError as err:
                raise TemplateError(f"suspend golden actor {golden}: {err.message}") from err
            ready = {
                "type": "Ready",
                "status": "True",
                "reason": "Ready",
                "message": READY_MESSAGE,
                "observedGeneration": int(meta.get("generation") or 1),
                "lastTransitionTime": self.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            await self.writer.write_status(
                ns, name, {"phase": "Ready", "goldenSnapshot": snapshot, "conditions": [ready]}
            )
            return None
        if phase == "Ready":
            return None
        raise TemplateError(f'unrecognized phase "{phase}"')

    def _failed(self, message: str, generation: int) -> dict[str, Any]:
        condition = {
            "type": "Ready",
            "status": "False",
            "reason": "InvalidSpec",
            "message": message,
            "observedGeneration": generation,
            "lastTransitionTime": self.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        return {"phase": "Failed", "conditions": [condition]}


class ControlOps:
    """`ActorOps` calling the simulator's `Control` in-process."""

    def __init__(self, control: Any) -> None:
        self.control = control

    async def create_actor(self, actor_id: str, namespace: str, name: str) -> None:
        """CreateActor."""
        self.control.create(actor_id, namespace, name)

    async def resume_actor(self, actor_id: str) -> None:
        """ResumeActor with ``boot``: a golden actor always cold-boots (after a spec change the
        previous golden snapshot still sits in the status, and must not be restored)."""
        await self.control.resume(actor_id, boot=True)

    async def suspend_actor(self, actor_id: str) -> str:
        """SuspendActor; the golden snapshot URI."""
        record = await self.control.suspend(actor_id)
        return str(record.last_snapshot)
