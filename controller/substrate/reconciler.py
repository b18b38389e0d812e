"""The reconcile skeleton both kinds share, and the one place their outcomes are mapped.

A pass reads the live object, skips one this controller does not own, runs the deletion step
machine when it is being deleted, else adds the finalizer and runs the kind's `ensure` (its
happy path). Outcomes:

| what `ensure` does                        | status                          | event   | queue |
|-------------------------------------------|---------------------------------|---------|-------|
| returns a `Result`                        | the kind's                      | -       | as asked |
| raises `SpecError` (terminal)             | the kind's failure condition    | Warning | none: `TerminalError` (a change to the object or a referenced object re-enqueues it) |
| raises `SpecError` with ``terminal=False`` | the kind's failure condition    | Warning | resync period |
| raises `kerr.Invalid` (API refused what we built) | the kind's failure condition | Warning | resync period |
| raises anything else                      | -                               | -       | backoff (workers) |

A status write that turns Ready True goes through `write_ready_aware`: a Normal event (recorded
just before the write) and one ``kagent_substrate_time_to_ready_seconds`` observation per
transition.

Deletion: finalizer absent -> done; the skip-cleanup annotation -> event, release; otherwise the
kind's `delete_actors` step until it reports done (polled faster while within the delete
timeout), then release. An ate-api failure there records a Warning event and retries.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Protocol

from controller.runtime.result import Result
from controller.substrate import objects
from controller.substrate.events import Events
from controller.substrate.metrics import ObjectMetrics
from controller.substrate.objects import SKIP_CLEANUP
from controller.substrate.outcome import SpecError
from shared.api.keys import ObjectKey
from shared.ateapi import errors as ate
from shared.errors import TerminalError
from shared.kube import errors as kerr
from shared.kube.client import KubeClient
from shared.kube.resources import Resource

Obj = dict[str, Any]


class Timing(Protocol):
    """The requeue settings the skeleton needs (`controller.config.ControllerConfig` has them)."""

    @property
    def resync_period(self) -> float: ...

    @property
    def not_ready_requeue(self) -> float: ...

    @property
    def delete_timeout(self) -> float: ...


class ObjectReconciler(abc.ABC):
    """Converges one object of ``resource`` per call; subclasses supply the kind's steps."""

    resource: ClassVar[Resource]
    finalizer: ClassVar[str]
    kind: ClassVar[str]
    """``AgentHarness`` / ``SandboxAgent``: event actions and reasons are named after it."""
    skip_note: ClassVar[str]
    """What the skip-cleanup annotation left behind (event note)."""
    invalid_prefix: ClassVar[str]
    """Starts the condition message when the API refused an object we built."""

    def __init__(
        self,
        kube: KubeClient,
        events: Events,
        timing: Timing,
        clock: Callable[[], dt.datetime],
        metrics: ObjectMetrics | None = None,
    ) -> None:
        self.kube = kube
        self.events = events
        self.timing = timing
        self.clock = clock
        self.metrics = metrics

    # --- what each kind supplies -----------------------------------------------------------

    @abc.abstractmethod
    def owns(self, obj: Obj) -> bool:
        """Whether this controller reconciles the object (runtime/platform substrate)."""

    @abc.abstractmethod
    async def ensure(self, obj: Obj) -> Result:
        """Converge a live object (finalizer present); raise `SpecError` for what the user
        must fix."""

    @abc.abstractmethod
    async def write_failed(self, obj: Obj, message: str) -> None:
        """Write the kind's failure condition(s) with ``message``."""

    @abc.abstractmethod
    async def delete_actors(self, obj: Obj, timed_out: bool) -> bool:
        """One deletion step (at most one mutating call per actor); True once nothing is left."""

    async def delete_unavailable(
        self, obj: Obj, exc: ate.AteApiError, timed_out: bool
    ) -> Result | None:
        """ate-api unreachable while deleting: a `Result` to wait, None to report and retry."""
        return None

    # --- what the kinds call ----------------------------------------------------------------

    async def write_ready_aware(
        self,
        obj: Obj,
        wanted: list[objects.Cond],
        write: Callable[[], Awaitable[objects.Cond | None]],
    ) -> None:
        """Run ``write`` (a status write of ``wanted`` on ``obj``, as read before it). When it
        turns Ready True: the Normal event first, so whoever sees Ready finds the event too (no
        write trails convergence), and one time-to-Ready observation once the write landed."""
        ready = objects.became_ready(obj, wanted)
        if ready is not None:
            await self.events(obj, "Normal", "Ready", "Reconcile", ready.message)
        if await write() is not None and self.metrics is not None:
            self.metrics.ready(self.kind, obj, self.clock())

    # --- the skeleton ----------------------------------------------------------------------

    async def __call__(self, key: ObjectKey) -> Result:
        obj = await objects.get_live(self.kube, self.resource, key)
        if obj is None or not self.owns(obj):
            return Result()
        if obj["metadata"].get("deletionTimestamp"):
            return await self._delete(obj)
        obj = await objects.ensure_finalizer(self.kube, self.resource, obj, self.finalizer)
        try:
            return await self.ensure(obj)
        except SpecError as exc:
            return await self._refused(obj, exc)
        except kerr.Invalid as exc:
            refused = SpecError(f"{self.invalid_prefix}: {exc}", reason="InvalidObject")
            refused.terminal = False
            return await self._refused(obj, refused)

    async def _refused(self, obj: Obj, exc: SpecError) -> Result:
        await self.write_failed(obj, str(exc))
        await self.events(obj, "Warning", exc.reason, "Reconcile", exc.note)
        if not exc.terminal:
            return Result(requeue_after=self.timing.resync_period)
        raise TerminalError(str(exc), reason=exc.reason)

    async def _delete(self, obj: Obj) -> Result:
        meta = obj["metadata"]
        if self.finalizer not in (meta.get("finalizers") or []):
            return Result()
        action = f"Delete{self.kind}"
        if (meta.get("annotations") or {}).get(SKIP_CLEANUP) == "true":
            note = f"{SKIP_CLEANUP} is set: {self.skip_note}"
            await self.events(obj, "Warning", "CleanupSkipped", action, note)
            await objects.remove_finalizer(self.kube, self.resource, obj, self.finalizer)
            return Result()
        age, timeout = objects.deletion_age(meta, self.clock()), self.timing.delete_timeout
        poll = objects.deletion_poll(age, timeout, min(self.timing.not_ready_requeue, 2.0))
        try:
            done = await self.delete_actors(obj, age > timeout)
        except (ate.Unavailable, ate.DeadlineExceeded) as exc:
            waiting = await self.delete_unavailable(obj, exc, age > timeout)
            if waiting is not None:
                return waiting
            await self._delete_failed(obj, exc)
            raise
        except ate.AteApiError as exc:
            await self._delete_failed(obj, exc)
            raise
        if not done:
            return Result(requeue_after=poll)
        await objects.remove_finalizer(self.kube, self.resource, obj, self.finalizer)
        return Result()

    async def _delete_failed(self, obj: Obj, exc: ate.AteApiError) -> None:
        note = f"substrate cleanup: {exc}"
        await self.events(obj, "Warning", f"{self.kind}DeleteFailed", f"Delete{self.kind}", note)
