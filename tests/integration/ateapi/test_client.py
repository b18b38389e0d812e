"""The ate-api client against the simulator over real TLS on loopback."""

from __future__ import annotations

import asyncio
import re
import time

import grpc
import pytest
from prometheus_client import CollectorRegistry

from devstack.substrate.state import ActorRecord
from shared.ateapi import (
    ActorStatus,
    AlreadyExists,
    AteApiClient,
    AteApiError,
    DeadlineExceeded,
    NoFreeWorkers,
    NotFound,
    NotSuspended,
    TlsError,
    TokenFileError,
    Unavailable,
)
from shared.ateapi.errors import (
    Aborted,
    ConfigError,
    FailedPrecondition,
    Internal,
    InvalidArgument,
    TemplateNotFound,
    Unauthenticated,
    is_no_free_workers,
)
from shared.certs import make_ca
from tests.integration.ateapi.conftest import Harness, wait_for


async def test_every_rpc_round_trip(harness: Harness) -> None:
    client = await AteApiClient.connect(harness.config())
    harness.clients.append(client)
    created = await client.create_actor("a1", "ns", "tmpl")
    assert (created.version, created.status, created.pod_name) == (1, ActorStatus.SUSPENDED, "")
    got = await client.get_actor("a1")
    assert got == created
    running = await client.resume_actor("a1")
    assert (running.version, running.status) == (3, ActorStatus.RUNNING)
    assert running.pod_namespace == "ate-system" and running.pod_ip and running.pod_uid
    assert running.status_label == "Running" and running.status_name == "STATUS_RUNNING"
    workers = await client.list_workers()
    bound = [w for w in workers if w.actor_id == "a1"]
    assert len(workers) == 2 and len(bound) == 1
    assert (bound[0].actor_namespace, bound[0].actor_template) == ("ns", "tmpl")
    suspended = await client.suspend_actor("a1")
    assert (suspended.version, suspended.status) == (5, ActorStatus.SUSPENDED)
    assert suspended.last_snapshot.startswith("gs://ate-snapshots/sim/a1/")
    assert suspended.pod_ip == "" and suspended.pod_uid == running.pod_uid
    page = await client.list_actors()
    assert [a.actor_id for a in page.actors] == ["a1"] and page.next_page_token == ""
    await client.delete_actor("a1")
    with pytest.raises(NotFound, match="Actor a1 not found"):
        await client.get_actor("a1")
    await client.create_actor("a2", "ns", "tmpl")
    await client.debug_clear()
    assert await client.list_all_actors() == []
    assert len(await client.list_workers()) == 2  # pools re-register their workers


async def test_token_is_reread_and_trimmed_on_every_call(harness: Harness) -> None:
    client = harness.client()
    await client.create_actor("a1", "ns", "tmpl")
    harness.server_token.write_text("tok-2")
    harness.client_token.write_text("\ttok-2 \n")
    assert (await client.get_actor("a1")).actor_id == "a1"
    harness.client_token.write_text("tok-3")
    with pytest.raises(Unauthenticated) as info:
        await client.get_actor("a1")
    assert "tok-3" not in str(info.value) and "tok-2" not in str(info.value)
    assert not isinstance(info.value, grpc.RpcError)


async def test_missing_and_blank_token_files_fail_before_any_rpc(harness: Harness) -> None:
    missing = harness.client_token.parent / "absent"
    client = harness.client(token_file=missing)
    before = harness.calls("GetActor")
    with pytest.raises(TokenFileError) as info:
        await client.get_actor("a1")
    assert f'read bearer token file "{missing}": No such file or directory' in str(info.value)
    harness.client_token.write_text("  \n")
    client = harness.client()
    with pytest.raises(TokenFileError) as info:
        await client.get_actor("a1")
    assert f'bearer token file "{harness.client_token}" is empty' in str(info.value)
    assert harness.calls("GetActor") == before


async def test_status_codes_map_to_typed_errors(harness: Harness) -> None:
    client = harness.client()
    with pytest.raises(NotFound) as nf:
        await client.get_actor("nope")
    assert nf.value.code == "NOT_FOUND" and nf.value.details == "Actor nope not found"
    await client.create_actor("a1", "ns", "tmpl")
    with pytest.raises(AlreadyExists, match="Actor a1 already exists"):
        await client.create_actor("a1", "ns", "tmpl")
    with pytest.raises(TemplateNotFound, match="ActorTemplate ns/other not found"):
        await client.create_actor("a2", "ns", "other")
    with pytest.raises(InvalidArgument, match="invalid actor_id: must start and end"):
        await client.create_actor("Bad_ID", "ns", "tmpl")
    await client.resume_actor("a1")
    with pytest.raises(NotSuspended) as ns:
        await client.delete_actor("a1")
    assert ns.value.details == "Actor a1 is not suspended (status: STATUS_RUNNING)"
    assert isinstance(ns.value, FailedPrecondition) and isinstance(ns.value, AteApiError)


async def test_no_free_workers_leaves_the_actor_untouched(harness: Harness) -> None:
    registry = CollectorRegistry()
    client = AteApiClient(harness.config(), registry=registry)
    for i in range(3):
        await client.create_actor(f"a{i}", "ns", "tmpl")
    await client.resume_actor("a0")
    await client.resume_actor("a1")
    with pytest.raises(NoFreeWorkers) as info:
        await client.resume_actor("a2")
    err = info.value
    assert isinstance(err, FailedPrecondition) and is_no_free_workers(err)
    assert err.details == "no free workers available" and "increase WorkerPool replicas" in str(err)
    actor = await client.get_actor("a2")
    assert (actor.status, actor.version, actor.pod_name) == (ActorStatus.SUSPENDED, 1, "")
    no_free = "kagent_substrate_ateapi_no_free_workers_total"
    assert registry.get_sample_value(no_free, {"method": "ResumeActor"}) == 1


async def test_unavailable_is_retried_a_bounded_number_of_times(harness: Harness) -> None:
    client = harness.client()
    await client.create_actor("a1", "ns", "tmpl")
    harness.sim.control.faults.set("GetActor", unavailable=2)
    assert (await client.get_actor("a1")).actor_id == "a1"
    assert harness.calls("GetActor") == 3
    harness.sim.control.faults.set("GetActor", unavailable=100)
    with pytest.raises(Unavailable):
        await client.get_actor("a1")
    assert harness.calls("GetActor") == 6  # exactly max_attempts more
    harness.sim.control.faults.set("CreateActor", unavailable=1)
    with pytest.raises(Unavailable):
        await client.create_actor("a2", "ns", "tmpl")
    assert harness.calls("CreateActor") == 2  # non-idempotent: one attempt


async def test_deadline_exceeded_is_bounded(harness: Harness) -> None:
    client = harness.client(call_timeout=0.1)
    await client.create_actor("a1", "ns", "tmpl")
    harness.sim.control.faults.set("GetActor", latency=2.0)
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        await client.get_actor("a1")
    assert time.monotonic() - started < 1.5
    assert harness.calls("GetActor") == 3


async def test_dropped_connection_is_retried(harness: Harness) -> None:
    registry = CollectorRegistry()
    client = AteApiClient(harness.config(), registry=registry)
    harness.clients.append(client)
    await client.create_actor("a1", "ns", "tmpl")
    harness.sim.control.faults.set("GetActor", drop=1)
    assert (await client.get_actor("a1")).actor_id == "a1"
    total = registry.get_sample_value
    assert (
        total("kagent_substrate_ateapi_requests_total", {"method": "GetActor", "code": "OK"}) == 1
    )
    assert (
        total(
            "kagent_substrate_ateapi_requests_total", {"method": "GetActor", "code": "UNAVAILABLE"}
        )
        == 1
    )
    assert (
        total("kagent_substrate_ateapi_request_duration_seconds_count", {"method": "GetActor"}) == 2
    )


async def test_paging_through_2500_actors(harness: Harness) -> None:
    store = harness.sim.store
    for i in range(2500):
        store.actors[f"a-{i:05d}"] = ActorRecord(f"a-{i:05d}", "ns", "tmpl")
    client = harness.client()
    first = await client.list_actors()
    assert len(first.actors) == 1000 and first.next_page_token
    everyone = await client.list_all_actors(page_size=700)
    assert sorted(a.actor_id for a in everyone) == sorted(store.actors)
    with pytest.raises(InvalidArgument, match="page_size cannot be negative"):
        await client.list_actors(-1)
    with pytest.raises(InvalidArgument, match="page_size 1001 exceeds maximum page size 1000"):
        await client.list_actors(1001)
    with pytest.raises(Internal, match="internal server error"):
        await client.list_actors(10, "garbage")


async def test_overlapping_calls_on_one_actor_are_aborted(harness: Harness) -> None:
    client = harness.client()
    await client.create_actor("a1", "ns", "tmpl")
    harness.sim.control.timing.resume_delay = 0.5
    resume = asyncio.create_task(client.resume_actor("a1"))
    await wait_for(lambda: harness.sim.store.actors["a1"].status == 1)
    assert (await client.get_actor("a1")).status == ActorStatus.RESUMING
    with pytest.raises(Aborted, match="another operation is in progress for this actor"):
        await client.suspend_actor("a1")
    assert (await resume).status == ActorStatus.RUNNING


async def test_wrong_ca_is_a_clear_error_not_a_hang(harness: Harness, tmp_path) -> None:  # type: ignore[no-untyped-def]
    other = tmp_path / "other-ca.pem"
    other.write_bytes(make_ca("someone-else").cert_pem)
    started = time.monotonic()
    with pytest.raises(TlsError) as info:
        await AteApiClient.connect(harness.config(ca_file=other, dial_timeout=10.0))
    assert time.monotonic() - started < 5
    assert f'dial ate-api "{harness.ends.grpc}"' in str(info.value)
    assert "CA file" in str(info.value)
    client = harness.client(ca_file=other)
    before = harness.calls("GetActor")
    with pytest.raises(TlsError):
        await client.get_actor("a1")
    assert harness.calls("GetActor") == before


async def test_insecure_skips_verification_but_keeps_tls(harness: Harness) -> None:
    client = await AteApiClient.connect(harness.config(ca_file=None, insecure=True))
    harness.clients.append(client)
    await client.create_actor("a1", "ns", "tmpl")
    assert (await client.get_actor("a1")).version == 1


async def test_unreachable_endpoint_fails_within_dial_timeout(harness: Harness) -> None:
    config = harness.config(endpoint="127.0.0.1:1", dial_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(Unavailable, match=re.escape('dial ate-api "127.0.0.1:1"')):
        await AteApiClient.connect(config)
    assert time.monotonic() - started < 3


async def test_bad_config_is_a_clear_error(harness: Harness, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="endpoint is required"):
        AteApiClient(harness.config(endpoint=" "))
    with pytest.raises(ConfigError, match="call_timeout must be a positive number"):
        AteApiClient(harness.config(call_timeout=0))
    client = harness.client(ca_file=tmp_path / "nope.pem")
    with pytest.raises(ConfigError, match=r"ca_file .* cannot be read"):
        await client.get_actor("a1")
