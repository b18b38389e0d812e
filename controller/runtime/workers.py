"""The one place that maps a reconcile outcome to a queue operation (controller-runtime
``reconcileHandler``), counts it, times it, and binds a ``reconcile_id`` to the logs.

| outcome                              | queue                      | result label    |
|--------------------------------------|----------------------------|-----------------|
| ``Result()``                          | forget                     | ``success``       |
| ``Result(requeue_after=s)``           | forget, add_after(s)       | ``requeue_after`` |
| raises `shared.errors.TerminalError`  | forget, cancel delayed     | ``terminal``      |
| raises anything else                  | add_rate_limited (backoff) | ``error``         |

N workers pull from one queue; the queue guarantees one reconcile per key at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from controller.runtime.queue import WorkQueue
from controller.runtime.result import Reconciler, Result, reconcile_id
from shared.api.keys import ObjectKey
from shared.errors import TerminalError

log = logging.getLogger(__name__)

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class ReconcileMetrics:
    """The reconcile metrics of SPEC §10, registered once on an injected registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.total = Counter(
            "kagent_substrate_reconcile_total",
            "Reconciles by controller and outcome (success, requeue_after, error, terminal).",
            ["controller", "result"],
            registry=registry,
        )
        self.duration = Histogram(
            "kagent_substrate_reconcile_duration_seconds",
            "Seconds per reconcile.",
            ["controller"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.depth = Gauge(
            "kagent_substrate_workqueue_depth",
            "Keys waiting in the work queue.",
            ["controller"],
            registry=registry,
        )


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """Concurrency and shutdown of one controller."""

    workers: int = 4
    """Reconciles running at once (never two for the same key)."""
    shutdown_timeout: float = 30.0
    """Seconds to let in-flight reconciles finish on shutdown before cancelling them."""


class Workers:
    """Runs a reconciler over a queue with N workers."""

    def __init__(
        self,
        name: str,
        reconciler: Reconciler,
        queue: WorkQueue[ObjectKey],
        metrics: ReconcileMetrics,
        config: WorkerConfig | None = None,
    ) -> None:
        self.name = name
        self.reconciler = reconciler
        self.queue = queue
        self.metrics = metrics
        self.config = config or WorkerConfig()
        metrics.depth.labels(controller=name).set_function(lambda: len(queue))
        self._tasks: list[asyncio.Task[None]] = []

    async def run(self) -> None:
        """Start the workers and wait for them (they end when the queue shuts down)."""
        self._tasks = [
            asyncio.create_task(self._worker(), name=f"{self.name}-worker-{i}")
            for i in range(self.config.workers)
        ]
        try:
            await asyncio.gather(*self._tasks)
        finally:
            for task in self._tasks:
                task.cancel()

    async def stop(self) -> None:
        """Shut the queue, let in-flight reconciles finish (bounded), then cancel the rest."""
        self.queue.shutdown()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.queue.drain(), self.config.shutdown_timeout)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _worker(self) -> None:
        while True:
            key = await self.queue.get()
            if key is None:
                return
            try:
                await self.process(key)
            finally:
                self.queue.done(key)

    async def process(self, key: ObjectKey) -> str:
        """Reconcile ``key`` once and apply the outcome to the queue; return the result label."""
        rid = uuid.uuid4().hex[:16]
        token = reconcile_id.set(rid)
        # "name" cannot travel in extra= (LogRecord.name is the logger's); the key is in the text.
        extra = {"controller": self.name, "namespace": key.namespace, "reconcile_id": rid}
        start = self.queue.clock.now()
        try:
            result = await self.reconciler(key)
        except asyncio.CancelledError:
            raise
        except TerminalError as exc:
            self.queue.forget(key)
            self.queue.cancel_delayed(key)  # no timed retry: a change to the object enqueues it
            label = "terminal"
            log.error("reconcile %s failed terminally (%s): %s", key, exc.reason, exc, extra=extra)
        except Exception as exc:
            delay = self.queue.add_rate_limited(key)
            label = "error"
            log.warning(
                "reconcile %s failed, retry %d in %.3fs: %s: %s",
                key,
                self.queue.retries(key),
                delay,
                type(exc).__name__,
                exc,
                extra=extra,
                exc_info=not isinstance(exc, OSError | LookupError)
                and log.isEnabledFor(logging.DEBUG),
            )
        else:
            label = self._apply(key, result)
            log.debug("reconciled %s (%s)", key, label, extra=extra)
        finally:
            reconcile_id.reset(token)
            self.metrics.duration.labels(controller=self.name).observe(
                self.queue.clock.now() - start
            )
        self.metrics.total.labels(controller=self.name, result=label).inc()
        return label

    def _apply(self, key: ObjectKey, result: Result) -> str:
        self.queue.forget(key)
        # This pass saw the current state: a requeue asked for by an earlier pass is stale
        # (e.g. the 10 s not-ready check after the pass that reached Ready).
        self.queue.cancel_delayed(key)
        if result.requeue_after is not None and result.requeue_after > 0:
            self.queue.add_after(key, result.requeue_after)
            return "requeue_after"
        return "success"
