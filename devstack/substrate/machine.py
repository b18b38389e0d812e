"""The ``Control`` semantics of spec/ateapi.md §3: validation, status machine, workers, paging.

Resume and Suspend walk the reference workflows step by step (each skipped when already
done), so the intermediate RESUMING/SUSPENDING states are visible to concurrent readers for
``resume_delay``/``suspend_delay`` seconds and persist when a step fails.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import datetime as dt
import json
import random
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from devstack.substrate.boot import Boots
from devstack.substrate.errors import SimError, internal
from devstack.substrate.faults import Faults
from devstack.substrate.state import (
    RESUMING,
    RUNNING,
    SUSPENDED,
    SUSPENDING,
    ActorRecord,
    Store,
    TemplateInfo,
    WorkerRecord,
)
from shared.ateapi.convert import status_name

ACTOR_ID = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
ID_RULE = (
    "invalid actor_id: must start and end with a lower case alphanumeric character, "
    "and consist only of lower case alphanumeric characters or '-'"
)
MAX_PAGE = 1000


def actor_id_problem(actor_id: str) -> str:
    """The reference's label message for a bad id, or "" when valid."""
    if len(actor_id) > 63:
        return "invalid actor_id: must be no more than 63 characters"
    if not ACTOR_ID.match(actor_id):
        return ID_RULE
    return ""


def snapshot_uri(location: str, actor_id: str, now: dt.datetime) -> str:
    """``<location minus one trailing "/">/<id>/<RFC3339>-<26 base32 chars>``."""
    base = location[:-1] if location.endswith("/") else location
    rand = base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=").lower()[:26]
    return f"{base}/{actor_id}/{now.strftime('%Y-%m-%dT%H:%M:%SZ')}-{rand}"


@dataclass(slots=True)
class Timing:
    """Simulated durations of the atelet steps (seconds)."""

    resume_delay: float = 0.0
    suspend_delay: float = 0.0


class Control:
    """The ate-api server logic over a `Store`; every method raises `SimError` on failure."""

    def __init__(
        self,
        store: Store,
        *,
        timing: Timing | None = None,
        faults: Faults | None = None,
        boots: Boots | None = None,
    ) -> None:
        self.store = store
        self.boots = boots
        self.timing = timing or Timing()
        self.faults = faults or Faults()
        self.pools: dict[tuple[str, str], int] = {}

    # ---- locking -------------------------------------------------------------------
    @contextmanager
    def _locked(self, actor_id: str) -> Iterator[None]:
        if actor_id in self.store.locks:
            raise SimError("ABORTED", "another operation is in progress for this actor")
        self.store.locks.add(actor_id)
        try:
            yield
        finally:
            self.store.locks.discard(actor_id)

    def _load(self, actor_id: str) -> tuple[ActorRecord, TemplateInfo]:
        actor = self.store.actors.get(actor_id)
        if actor is None:
            raise SimError("NOT_FOUND", f"Actor {actor_id} not found")
        template = self.store.templates.get((actor.template_namespace, actor.template_name))
        if template is None:
            raise internal()
        return actor, template

    # ---- RPCs ----------------------------------------------------------------------
    def get(self, actor_id: str) -> ActorRecord:
        """GetActor."""
        if not actor_id:
            raise SimError("INVALID_ARGUMENT", "id is required")
        actor = self.store.actors.get(actor_id)
        if actor is None:
            raise SimError("NOT_FOUND", f"Actor {actor_id} not found")
        return actor.copy()

    def create(self, actor_id: str, namespace: str, name: str) -> ActorRecord:
        """CreateActor: validation in the reference order, then template and uniqueness."""
        for value, text in (
            (namespace, "actor_template_namespace is required"),
            (name, "actor_template_name is required"),
            (actor_id, "actor_id is required"),
        ):
            if not value:
                raise SimError("INVALID_ARGUMENT", text)
        if problem := actor_id_problem(actor_id):
            raise SimError("INVALID_ARGUMENT", problem)
        if (namespace, name) not in self.store.templates:
            raise SimError("FAILED_PRECONDITION", f"ActorTemplate {namespace}/{name} not found")
        if actor_id in self.store.actors:
            raise SimError("ALREADY_EXISTS", f"Actor {actor_id} already exists")
        actor = ActorRecord(actor_id, namespace, name)
        self.store.actors[actor_id] = actor
        return actor.copy()

    def delete(self, actor_id: str) -> None:
        """DeleteActor: no lock (as the reference); only SUSPENDED actors."""
        if not actor_id:
            raise SimError("INVALID_ARGUMENT", "actor_id is required")
        if problem := actor_id_problem(actor_id):
            raise SimError("INVALID_ARGUMENT", problem)
        actor = self.store.actors.get(actor_id)
        if actor is None:
            raise SimError("NOT_FOUND", f"Actor {actor_id} not found")
        if actor.status != SUSPENDED:
            raise SimError(
                "FAILED_PRECONDITION",
                f"Actor {actor_id} is not suspended (status: {status_name(actor.status)})",
            )
        del self.store.actors[actor_id]

    async def resume(self, actor_id: str, *, boot: bool = False) -> ActorRecord:
        """ResumeActor (spec §3.3): AssignWorker → CallAtelet → FinalizeRunning."""
        if not actor_id:
            raise SimError("INVALID_ARGUMENT", "id is required")
        with self._locked(actor_id):
            actor, template = self._load(actor_id)
            if actor.status == RUNNING:
                return actor.copy()
            worker = self._assign_worker(actor, template)
            if worker.actor_id != actor.actor_id:
                worker.actor_id = actor.actor_id
                worker.actor_namespace = template.namespace
                worker.actor_template = template.name
                worker.version += 1
            actor.status = RESUMING
            actor.pod_namespace, actor.pod_name = worker.namespace, worker.pod
            actor.pod_ip, actor.pod_uid = worker.ip, worker.uid
            actor.version += 1
            if failure := self.faults.take_atelet_failure("ResumeActor"):
                raise failure
            if actor.last_snapshot:
                actor.restored_from = f"snapshot:{actor.last_snapshot}"
            elif template.golden_snapshot and not boot:
                actor.restored_from = f"golden:{template.golden_snapshot}"
            else:
                actor.restored_from = "boot"
            if self.boots is not None:
                if actor.restored_from == "boot":
                    await self.boots.boot(actor_id, template.namespace, template.name)
                else:
                    self.boots.restore(actor_id, actor.restored_from.split(":", 1)[1])
            await asyncio.sleep(self.timing.resume_delay)
            current = self.store.actors.get(actor_id)
            if current is not actor or actor.pod_name != worker.pod:
                raise SimError("ABORTED", "concurrent update conflict, please retry")
            actor.status = RUNNING
            actor.version += 1
            return actor.copy()

    def _assign_worker(self, actor: ActorRecord, template: TemplateInfo) -> WorkerRecord:
        candidates = [
            w
            for w in self.store.workers.values()
            if w.pool == template.pool_name and w.namespace == template.pool_namespace
        ]
        for worker in candidates:
            if worker.actor_id == actor.actor_id:
                return worker
        free = [w for w in candidates if not w.actor_id]
        if not free:
            raise SimError("FAILED_PRECONDITION", "no free workers available")
        return random.choice(free)

    async def suspend(self, actor_id: str) -> ActorRecord:
        """SuspendActor (spec §3.4): MarkSuspending → CallAtelet → FinalizeSuspended."""
        if not actor_id:
            raise SimError("INVALID_ARGUMENT", "id is required")
        with self._locked(actor_id):
            actor, template = self._load(actor_id)
            if actor.status == RUNNING:
                actor.status = SUSPENDING
                now = dt.datetime.now(dt.UTC)
                actor.in_progress_snapshot = snapshot_uri(template.snapshot_location, actor_id, now)
                actor.version += 1
            if actor.status != SUSPENDED:
                if not actor.pod_namespace:
                    raise internal()
                key = (actor.pod_namespace, template.pool_name, actor.pod_name)
                if key in self.store.workers:
                    if not actor.in_progress_snapshot:
                        raise SimError(
                            "INVALID_ARGUMENT", 'invalid snapshot URI prefix "": missing bucket'
                        )
                    if failure := self.faults.take_atelet_failure("SuspendActor"):
                        raise failure
                    if self.faults.take_stuck_suspending():
                        raise SimError(
                            "DEADLINE_EXCEEDED",
                            "checkpoint did not finish (fault injection: stuck SUSPENDING)",
                        )
                    await asyncio.sleep(self.timing.suspend_delay)
            if actor.status == SUSPENDED and not actor.pod_namespace:
                return actor.copy()
            self._finalize_suspended(actor, template)
            return actor.copy()

    def _finalize_suspended(self, actor: ActorRecord, template: TemplateInfo) -> None:
        if actor.pod_namespace:
            key = (actor.pod_namespace, template.pool_name, actor.pod_name)
            worker = self.store.workers.get(key)
            if worker is not None and worker.actor_id == actor.actor_id:
                worker.actor_id = worker.actor_namespace = worker.actor_template = ""
                worker.version += 1
        actor.status = SUSPENDED
        if actor.in_progress_snapshot:
            actor.last_snapshot = actor.in_progress_snapshot
            actor.in_progress_snapshot = ""
            if self.boots is not None:
                self.boots.snapshot(actor.actor_id, actor.last_snapshot)
        actor.pod_namespace = actor.pod_name = actor.pod_ip = ""
        actor.version += 1

    def list_actors(self, page_size: int, page_token: str) -> tuple[list[ActorRecord], str]:
        """ListActors: 0 → 1000, limits, opaque token (bad token → INTERNAL, as the reference)."""
        if page_size < 0:
            raise SimError("INVALID_ARGUMENT", "page_size cannot be negative")
        if page_size > MAX_PAGE:
            raise SimError(
                "INVALID_ARGUMENT", f"page_size {page_size} exceeds maximum page size {MAX_PAGE}"
            )
        size = page_size or MAX_PAGE
        after = ""
        if page_token:
            try:
                after = str(json.loads(base64.b64decode(page_token, validate=True))["after"])
            except (binascii.Error, ValueError, KeyError, TypeError):
                raise internal() from None
        ids = sorted(i for i in self.store.actors if i > after)
        page = [self.store.actors[i].copy() for i in ids[:size]]
        token = ""
        if len(ids) > size:
            token = base64.b64encode(json.dumps({"after": page[-1].actor_id}).encode()).decode()
        return page, token

    def list_workers(self) -> list[WorkerRecord]:
        """ListWorkers: every worker record."""
        return [dataclasses.replace(w) for w in self.store.workers.values()]

    def debug_clear(self) -> None:
        """DebugClear: wipe actors, workers, locks; pools re-register their workers at once."""
        self.store.clear()
        for (namespace, pool), replicas in list(self.pools.items()):
            self.set_pool_capacity(namespace, pool, replicas)

    # ---- background: workers and templates ---------------------------------------
    def set_pool_capacity(self, namespace: str, pool: str, replicas: int) -> None:
        """Scale a pool's workers to ``replicas``; removing a bound worker suspends its actor."""
        self.pools[(namespace, pool)] = replicas
        mine = [
            w for w in self.store.workers.values() if (w.namespace, w.pool) == (namespace, pool)
        ]
        while len(mine) < replicas:
            self.store.worker_serial += 1
            n = self.store.worker_serial
            pod = f"{pool}-deployment-{n:05d}"
            record = WorkerRecord(
                namespace,
                pool,
                pod,
                f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}",
                f"00000000-0000-4000-8000-{n:012d}",
            )
            self.store.workers[record.key] = record
            mine.append(record)
        surplus = len(mine) - replicas
        for worker in sorted(mine, key=lambda w: (bool(w.actor_id), w.pod))[: max(surplus, 0)]:
            self.remove_worker(worker.key)
        if replicas == 0:
            self.pools.pop((namespace, pool), None)

    def remove_worker(self, key: tuple[str, str, str]) -> None:
        """Worker pod deleted: a bound actor still on it becomes SUSPENDED (spec §3.5)."""
        worker = self.store.workers.pop(key, None)
        if worker is None or not worker.actor_id:
            return
        actor = self.store.actors.get(worker.actor_id)
        if actor is not None and (actor.pod_namespace, actor.pod_name) == (key[0], key[2]):
            actor.status = SUSPENDED
            actor.pod_namespace = actor.pod_name = actor.pod_ip = ""
            actor.in_progress_snapshot = ""
            actor.version += 1

    def put_template(self, info: TemplateInfo) -> None:
        """Add or replace a template in the informer cache."""
        self.store.templates[(info.namespace, info.name)] = info

    def drop_template(self, namespace: str, name: str) -> None:
        """Forget a deleted template."""
        self.store.templates.pop((namespace, name), None)
