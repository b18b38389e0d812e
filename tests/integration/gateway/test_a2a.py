"""A2A sessions through the gateway on the in-process stack (real sockets, real gRPC)."""

from __future__ import annotations

import asyncio

from shared.ateapi.convert import ActorStatus
from shared.naming import sandbox_session_actor_id
from tests.integration.controller.conftest import eventually
from tests.integration.gateway.conftest import ALICE, BOB, GatewayStack

TEMPLATE = ("team-a", "asr-helper")


async def statuses(g: GatewayStack) -> dict[str, ActorStatus]:
    return {a.actor_id: a.status for a in await g.stack.ate.list_all_actors()}


async def test_message_creates_session_actor_and_reaches_it(gws: GatewayStack) -> None:
    await gws.ready_agent("helper")
    status, body = await gws.send("helper", "sess-1", text="what is a runbook?")
    assert status == 200, body
    actor_id = sandbox_session_actor_id("team-a", "helper", "sess-1")
    assert body["actor"] == actor_id  # the fake workload echoes who answered
    assert body["path"] == "/"
    assert '"what is a runbook?"' in body["body"]
    assert "authorization" not in {k.lower() for k in body["headers"]}  # caller token not forwarded
    actor = await gws.stack.ate.get_actor(actor_id)
    assert (actor.template_namespace, actor.template_name) == TEMPLATE
    # idle delay after the last request, then suspended
    await eventually(lambda: statuses(gws), lambda s: s.get(actor_id) == ActorStatus.SUSPENDED)
    assert gws.suspends == [actor_id]
    assert gws.gw.tracker is not None and gws.gw.tracker.active() == 0
    # a follow-up resumes it
    status, body = await gws.send("helper", "sess-1")
    assert status == 200 and body["actor"] == actor_id


async def test_streaming_response_arrives_in_chunks(gws: GatewayStack) -> None:
    await gws.ready_agent("helper")
    url = f"{gws.url}/api/a2a-sandboxes/team-a/helper/stream?n=4&interval=0.05"
    body = {"jsonrpc": "2.0", "id": 1, "method": "message/stream", "params": {"contextId": "s"}}
    chunks = []
    async with gws.client.post(url, json=body, headers={"Authorization": f"Bearer {ALICE}"}) as r:
        assert r.status == 200
        async for chunk in r.content.iter_any():
            chunks.append(chunk)
    text = b"".join(chunks).decode()
    assert text == "".join(f"chunk {i}\n" for i in range(4))
    assert len(chunks) >= 2  # flushed as produced, not buffered to the end


async def test_errors_missing_context_auth_and_origin(gws: GatewayStack) -> None:
    await gws.ready_agent("helper")
    status, body = await gws.send("helper", None)
    assert status == 200 and body["error"]["code"] == -32602
    assert "contextId" in body["error"]["message"] and body["id"] == 7
    assert (await gws.send("helper", "s", token="nope"))[0] == 401
    status, body = await gws.send("helper", "s", token=BOB)
    assert status == 403 and "sandboxagents/gateway" in body["error"]
    status, _ = await gws.send("helper", "s", headers={"Origin": "https://evil.example"})
    assert status == 403
    status, _ = await gws.send("helper", "s", headers={"Origin": "https://ui.example"})
    assert status == 200
    assert (await gws.send("missing", "s"))[0] == 404
    async with gws.client.post(f"{gws.url}/api/a2a-sandboxes/team-a/helper/") as resp:
        assert resp.status == 401  # anonymous


async def test_concurrent_requests_one_ensure_suspend_after_last(gws: GatewayStack) -> None:
    await gws.ready_agent("helper")
    actor_id = sandbox_session_actor_id("team-a", "helper", "busy")
    ensures_before = gws.sessions.ensures
    url = f"{gws.url}/api/a2a-sandboxes/team-a/helper/stream?n=10&interval=0.05"
    body = {"jsonrpc": "2.0", "id": 1, "method": "message/stream", "params": {"contextId": "busy"}}
    headers = {"Authorization": f"Bearer {ALICE}"}

    async def long_stream() -> str:
        async with gws.client.post(url, json=body, headers=headers) as r:
            return await r.text()

    long_task = asyncio.create_task(long_stream())
    # 20 rapid follow-ups on the same session while the long one streams
    results = await asyncio.gather(*(gws.send("helper", "busy") for _ in range(20)))
    assert all(s == 200 and b["actor"] == actor_id for s, b in results), results
    assert gws.suspends == []  # never suspended while the stream is in flight
    assert gws.sessions.ensures - ensures_before == 1  # one ensure shared by all 21 requests
    assert (await gws.stack.ate.get_actor(actor_id)).status == ActorStatus.RUNNING
    assert (await long_task).endswith("chunk 9\n")
    await eventually(lambda: statuses(gws), lambda s: s.get(actor_id) == ActorStatus.SUSPENDED)
    assert gws.suspends == [actor_id]


async def test_message_during_suspending_waits_and_resumes(gws: GatewayStack) -> None:
    await gws.ready_agent("helper")
    actor_id = sandbox_session_actor_id("team-a", "helper", "slow")
    assert (await gws.send("helper", "slow"))[0] == 200
    gws.stack.sim.control.timing.suspend_delay = 0.5
    await eventually(lambda: statuses(gws), lambda s: s.get(actor_id) == ActorStatus.SUSPENDING)
    status, body = await gws.send("helper", "slow")
    assert status == 200 and body["actor"] == actor_id


async def test_two_sessions_two_actors_and_session_delete(gws: GatewayStack) -> None:
    await gws.ready_agent("helper")
    a, b = await asyncio.gather(gws.send("helper", "one"), gws.send("helper", "two"))
    assert a[1]["actor"] != b[1]["actor"]
    async with gws.client.delete(
        f"{gws.url}/api/a2a-sandboxes/team-a/helper/sessions/one",
        headers={"Authorization": f"Bearer {ALICE}"},
    ) as resp:
        assert resp.status == 200, await resp.text()
    left = await statuses(gws)
    assert a[1]["actor"] not in left and b[1]["actor"] in left


async def test_collision_refused_and_agent_delete_scoped(gws: GatewayStack) -> None:
    await gws.ready_agent("foo")
    await gws.ready_agent("foo-bar")
    status, body = await gws.send("foo-bar", "s1")
    victim = body["actor"]
    assert victim == sandbox_session_actor_id("team-a", "foo", "bar-s1")  # the S10 collision
    status, body = await gws.send("foo", "bar-s1")  # crafted to reach foo-bar's actor
    assert status == 200 and body["error"]["data"]["reason"] == "SessionIdConflict"
    # session DELETE through foo cannot touch it either
    async with gws.client.delete(
        f"{gws.url}/api/a2a-sandboxes/team-a/foo/sessions/bar-s1",
        headers={"Authorization": f"Bearer {ALICE}"},
    ) as resp:
        assert resp.status == 200
    assert victim in await statuses(gws)
    # hashed-id session of foo, then delete foo: foo-bar's session survives
    status, body = await gws.send("foo", "Hello World")
    hashed = body["actor"]
    assert hashed.startswith("asr-") and "foo" not in hashed
    await gws.delete_agent("foo")
    left = await statuses(gws)
    assert hashed not in left and victim in left
    assert not [i for i, a in left.items() if i.startswith("asr-team-a-foo-") and i != victim]


async def test_no_free_workers_clear_error_then_recovers(gws: GatewayStack) -> None:
    await gws.ready_agent("helper")
    workers = await gws.stack.ate.list_workers()
    gws.stack.sim.control.set_pool_capacity("team-a", "pool", 0)
    status, body = await gws.send("helper", "nw")
    assert status == 200 and body["error"]["data"]["reason"] == "NoFreeWorkers"
    assert "no free workers" in body["error"]["message"]
    gws.stack.sim.control.set_pool_capacity("team-a", "pool", len(workers))
    status, body = await gws.send("helper", "nw")
    assert status == 200 and "actor" in body


async def test_message_while_another_replica_suspends(gws: GatewayStack) -> None:
    await gws.ready_agent("helper")
    actor_id = sandbox_session_actor_id("team-a", "helper", "other")
    assert (await gws.send("helper", "other"))[0] == 200
    gws.stack.sim.control.timing.suspend_delay = 0.5
    suspend = asyncio.create_task(gws.stack.ate.suspend_actor(actor_id))
    await eventually(lambda: statuses(gws), lambda s: s.get(actor_id) == ActorStatus.SUSPENDING)
    status, body = await gws.send("helper", "other")
    assert status == 200 and body["actor"] == actor_id
    await suspend
