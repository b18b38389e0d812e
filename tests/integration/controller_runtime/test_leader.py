"""Lease leader election with two candidates against the devstack API."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from controller.runtime.leader import LeaderElectionConfig, LeaderElector, LeaderLost
from devstack.kubeapi.server import KubeApiServer
from shared.kube.client import KubeClient, KubeClientConfig, connect
from shared.kube.resources import LEASE
from tests.integration.controller_runtime.conftest import wait_for

LEASE_DURATION = 1.0


def config(identity: str) -> LeaderElectionConfig:
    return LeaderElectionConfig(
        "ctl-lock",
        "default",
        identity=identity,
        lease_duration=LEASE_DURATION,
        renew_deadline=0.6,
        retry_period=0.1,
    )


@pytest.fixture
async def clients(kubeapi: KubeApiServer) -> AsyncIterator[list[KubeClient]]:
    cs = [
        await connect(
            KubeClientConfig(kubeconfig=str(kubeapi.kubeconfig_path), request_timeout=2.0)
        )
        for _ in range(2)
    ]
    yield cs
    for c in cs:
        await c.close()


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, LeaderLost):
        await task


def test_config_is_validated() -> None:
    with pytest.raises(ValueError, match="lease_duration"):
        LeaderElectionConfig("l", "ns", lease_duration=5, renew_deadline=5)
    with pytest.raises(ValueError, match="renew_deadline"):
        LeaderElectionConfig("l", "ns", lease_duration=15, renew_deadline=2, retry_period=2)
    assert "_" in LeaderElectionConfig("l", "ns").identity


async def test_exactly_one_leads_and_a_clean_release_hands_over(
    clients: list[KubeClient], kube: KubeClient
) -> None:
    a, b = LeaderElector(clients[0], config("a")), LeaderElector(clients[1], config("b"))
    tasks = {"a": asyncio.create_task(a.run()), "b": asyncio.create_task(b.run())}
    await wait_for(lambda: a.is_leader or b.is_leader, what="a leader")
    leader, standby = (a, b) if a.is_leader else (b, a)
    for _ in range(5):  # across several renew periods, never two leaders
        await asyncio.sleep(0.1)
        assert leader.is_leader and not standby.is_leader
    lease = await kube.get(LEASE, "ctl-lock", "default")
    assert lease["spec"]["holderIdentity"] == leader.config.identity
    transitions = lease["spec"]["leaseTransitions"]

    loop = asyncio.get_running_loop()
    start = loop.time()
    await stop(tasks[leader.config.identity])  # clean shutdown releases the lease
    await wait_for(lambda: standby.is_leader, timeout=LEASE_DURATION * 3, what="takeover")
    assert loop.time() - start < LEASE_DURATION  # released: no need to wait for expiry
    lease = await kube.get(LEASE, "ctl-lock", "default")
    assert lease["spec"]["holderIdentity"] == standby.config.identity
    assert lease["spec"]["leaseTransitions"] == transitions + 1
    await stop(tasks[standby.config.identity])


async def test_a_dead_leader_is_replaced_within_the_lease_duration(
    clients: list[KubeClient],
) -> None:
    a = LeaderElector(clients[0], config("a"))
    ta = asyncio.create_task(a.run())
    await wait_for(lambda: a.is_leader, what="a leads")
    b = LeaderElector(clients[1], config("b"))
    tb = asyncio.create_task(b.run())
    await wait_for(lambda: b.observed_holder == "a", what="b sees a holding the lease")
    assert not b.is_leader

    async def no_release() -> bool:  # SIGKILL: the lease is not released
        return False

    a.release = no_release  # type: ignore[method-assign]
    loop = asyncio.get_running_loop()
    start = loop.time()
    await stop(ta)
    await wait_for(lambda: b.is_leader, timeout=LEASE_DURATION * 4, what="b takes over")
    assert loop.time() - start < LEASE_DURATION + 0.6  # lease duration + a retry period or so
    await stop(tb)


async def test_losing_the_lease_calls_back_and_raises(
    kubeapi: KubeApiServer, clients: list[KubeClient]
) -> None:
    lost: list[bool] = []
    a = LeaderElector(clients[0], config("a"), on_lost=lambda: lost.append(True))
    ta = asyncio.create_task(a.run())
    await wait_for(lambda: a.is_leader, what="a leads")
    assert kubeapi.state is not None
    kubeapi.state.faults.configure(
        {"errors": [{"verb": "update", "resource": "leases", "code": 500, "count": 10000}]}
    )
    try:
        with pytest.raises(LeaderLost):
            await asyncio.wait_for(ta, 5)
    finally:
        kubeapi.state.faults.clear()
    assert lost == [True] and not a.is_leader
