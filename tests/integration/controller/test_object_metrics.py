"""Time to Ready and the deletion gauges on the in-process stack: one observation per turn to
Ready (with its Normal event); a deletion counted by the informer caches of the leader and of a
standby that never reconciles, and neither counts it once the object is gone."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from prometheus_client import CollectorRegistry

from controller.harness.reconcile import FINALIZER, HarnessDeps, HarnessReconciler
from controller.runtime.informers import InformerCache
from controller.substrate.metrics import ObjectMetrics
from controller.substrate.router_probe import RouterProbe
from controller.substrate.watches import track_deletions
from shared.api.keys import ObjectKey
from shared.kube.resources import AGENT_HARNESS
from tests.integration.controller.conftest import Stack, eventually
from tests.integration.controller.test_harness_reconcile import CONFIG, condition, converge, harness

KIND = {"kind": "AgentHarness"}


@contextlib.asynccontextmanager
async def replica(stack: Stack) -> AsyncIterator[tuple[CollectorRegistry, ObjectMetrics]]:
    """One controller replica's registry and object metrics over its own informer cache."""
    registry = CollectorRegistry()
    metrics = ObjectMetrics(registry)
    cache = InformerCache(stack.kube, ["team-a"])
    track_deletions(cache, metrics, AGENT_HARNESS, "AgentHarness", FINALIZER)
    tasks = [asyncio.create_task(run()) for _, run, _ in cache.runnables()]
    try:
        yield registry, metrics
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def pending(registry: CollectorRegistry) -> tuple[float | None, float | None]:
    return (
        registry.get_sample_value("kagent_substrate_deletions_pending", KIND),
        registry.get_sample_value("kagent_substrate_oldest_deletion_age_seconds", KIND),
    )


async def test_time_to_ready_once_and_deletions_from_every_replicas_cache(stack: Stack) -> None:
    async with replica(stack) as (leader, metrics), replica(stack) as (standby, _):
        probe = RouterProbe(stack.ends.router, timeout=2)
        deps = HarnessDeps(
            kube=stack.kube,
            ate=stack.ate,
            probe=probe,
            events=stack.record,
            config=CONFIG,
            metrics=metrics,
        )
        rec = HarnessReconciler(deps)
        key = ObjectKey("team-a", "timed")
        count = "kagent_substrate_time_to_ready_seconds_count"
        try:
            await stack.kube.create(AGENT_HARNESS, harness("timed"))
            await converge(rec, stack, key, lambda o: condition(o, "Ready").get("status") == "True")
            assert leader.get_sample_value(count, KIND) == 1
            seconds = leader.get_sample_value("kagent_substrate_time_to_ready_seconds_sum", KIND)
            assert seconds is not None and 0 <= seconds < 30
            assert [(t, r) for t, r, _ in stack.events] == [("Normal", "Ready")]
            await rec(key)  # steady state: no second observation
            assert leader.get_sample_value(count, KIND) == 1
            assert standby.get_sample_value(count, KIND) is None  # observed where it reconciled

            assert pending(leader) == pending(standby) == (0, 0)
            await stack.kube.delete(AGENT_HARNESS, "timed", "team-a")
            # Not reconciled yet: our finalizer holds it; both replicas' caches count it.
            for registry in (leader, standby):
                got = await eventually(
                    lambda r=registry: asyncio.sleep(0, pending(r)), lambda p: p[0] == 1
                )
                assert got[1] is not None and 0 <= got[1] < 30
            await converge(rec, stack, key, lambda o: o is None)
            for registry in (leader, standby):
                await eventually(lambda r=registry: asyncio.sleep(0, pending(r)), (0, 0).__eq__)
        finally:
            await probe.close()
