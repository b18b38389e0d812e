"""The template controller's phases (spec §5.2 plus our Failed phase), with fake ports."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from devstack.substrate.errors import SimError
from devstack.substrate.kubewatch import template_info
from devstack.substrate.machine import Control
from devstack.substrate.state import RUNNING, SUSPENDED
from devstack.substrate.templates import (
    READY_MESSAGE,
    ControlOps,
    TemplateController,
    TemplateError,
    golden_actor_id,
    validate_spec,
)

DIGEST = "@sha256:" + "a" * 64


def template(**spec_overrides: Any) -> dict[str, Any]:
    spec = {
        "pauseImage": "registry/pause" + DIGEST,
        "containers": [{"name": "openclaw", "image": "registry/app" + DIGEST}],
        "snapshotsConfig": {"location": "gs://ate-snapshots/ns/t"},
        "workerPoolRef": {"name": "default", "namespace": "ate-system"},
        "runsc": {"amd64": {"sha256Hash": "b" * 64, "url": "https://x/runsc"}},
    }
    spec.update(spec_overrides)
    return {
        "apiVersion": "ate.dev/v1alpha1",
        "kind": "ActorTemplate",
        "metadata": {"namespace": "ns", "name": "t", "uid": "uid-1", "generation": 1},
        "spec": spec,
    }


def merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


class FakeWriter:
    def __init__(self, obj: dict[str, Any]) -> None:
        self.obj = obj
        self.writes: list[dict[str, Any]] = []
        self.fail_next = False

    async def write_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        if self.fail_next:
            self.fail_next = False
            raise OSError("status write failed")
        self.writes.append(status)
        merge(self.obj.setdefault("status", {}), status)


class Clock:
    def __init__(self) -> None:
        self.t = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.t


@pytest.fixture
def setup(control: Control) -> tuple[TemplateController, FakeWriter, Clock, dict[str, Any]]:
    obj = template()
    control.put_template(template_info(obj))
    writer = FakeWriter(obj)
    clock = Clock()
    return (
        TemplateController(ControlOps(control), writer, warmup=20.0, now=clock),
        writer,
        clock,
        obj,
    )


async def test_phases_to_ready(control: Control, setup: Any) -> None:
    ctrl, writer, clock, obj = setup
    assert await ctrl.reconcile(obj) == 0.0
    golden = obj["status"]["goldenActorID"]
    assert obj["status"]["phase"] == "ResumeGoldenActor" and golden == golden_actor_id("uid-1", 1)
    assert control.store.actors[golden].status == SUSPENDED
    assert await ctrl.reconcile(obj) == 20.0
    assert obj["status"]["phase"] == "WaitGoldenActor"
    assert obj["status"]["takeGoldenSnapshotAt"] == "2026-01-01T00:00:20Z"
    assert control.store.actors[golden].status == RUNNING
    clock.t += dt.timedelta(seconds=5)
    assert await ctrl.reconcile(obj) == 15.0  # too early: requeue for the rest
    clock.t += dt.timedelta(seconds=15)
    assert await ctrl.reconcile(obj) is None
    status = obj["status"]
    assert status["phase"] == "Ready"
    assert status["goldenSnapshot"] == control.store.actors[golden].last_snapshot != ""
    ready = status["conditions"][0]
    assert (ready["type"], ready["status"], ready["reason"], ready["message"]) == (
        "Ready",
        "True",
        "Ready",
        READY_MESSAGE,
    )
    writes = len(writer.writes)
    assert await ctrl.reconcile(obj) is None and len(writer.writes) == writes  # Ready: nothing


async def test_invalid_spec_fails_with_a_message_then_recovers(
    control: Control, setup: Any
) -> None:
    ctrl, writer, _, _ = setup
    obj = template(pauseImage="registry/pause:latest", workerPoolRef={"name": "default"})
    writer.obj = obj
    assert await ctrl.reconcile(obj) is None
    status = obj["status"]
    assert status["phase"] == "Failed"
    message = status["conditions"][0]["message"]
    assert "spec.pauseImage 'registry/pause:latest' is not digest-pinned" in message
    assert "spec.workerPoolRef.namespace is required" in message
    assert status["conditions"][0]["reason"] == "InvalidSpec"
    assert not control.store.actors  # no golden actor for an invalid spec
    assert await ctrl.reconcile(obj) is None and len(writer.writes) == 1  # no rewrite
    obj["spec"] = template()["spec"]
    obj["metadata"]["generation"] = 2
    assert await ctrl.reconcile(obj) == 0.0
    assert obj["status"]["phase"] == "ResumeGoldenActor" and "conditions" not in obj["status"]


async def test_status_write_failure_adopts_the_golden_actor(control: Control, setup: Any) -> None:
    ctrl, writer, _, obj = setup
    writer.fail_next = True
    with pytest.raises(OSError):
        await ctrl.reconcile(obj)
    assert await ctrl.reconcile(obj) == 0.0
    assert list(control.store.actors) == [obj["status"]["goldenActorID"]]  # no leak


async def test_no_capacity_is_retried(control: Control, setup: Any) -> None:
    ctrl, _, _, obj = setup
    control.set_pool_capacity("ate-system", "default", 0)
    await ctrl.reconcile(obj)
    with pytest.raises(TemplateError, match="no free workers available"):
        await ctrl.reconcile(obj)
    assert obj["status"]["phase"] == "ResumeGoldenActor"
    control.set_pool_capacity("ate-system", "default", 1)
    assert await ctrl.reconcile(obj) == 20.0


async def test_unknown_phase_is_an_error(setup: Any) -> None:
    ctrl, _, _, obj = setup
    obj["status"] = {"phase": "Bogus"}
    with pytest.raises(TemplateError, match='unrecognized phase "Bogus"'):
        await ctrl.reconcile(obj)


async def test_template_not_known_to_ate_api_is_retried(control: Control, setup: Any) -> None:
    ctrl, _, _, obj = setup
    control.drop_template("ns", "t")
    with pytest.raises(TemplateError, match="ActorTemplate ns/t not found"):
        await ctrl.reconcile(obj)


async def test_deleting_templates_are_skipped(setup: Any) -> None:
    ctrl, writer, _, obj = setup
    obj["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert await ctrl.reconcile(obj) is None and writer.writes == []


@pytest.mark.parametrize(
    ("overrides", "text"),
    [
        (
            {"containers": [{"name": "pause", "image": "x" + DIGEST}]},
            "must be unique and not 'pause'",
        ),
        ({"containers": [{"name": "Bad", "image": "x" + DIGEST}]}, "must be a DNS label"),
        ({"containers": [{"name": "c", "image": "x:1"}]}, "spec.containers[0].image"),
        ({"snapshotsConfig": {"location": "no-bucket"}}, "spec.snapshotsConfig.location"),
        ({"runsc": {"arm64": {"sha256Hash": "abc", "url": ""}}}, "spec.runsc.arm64.sha256Hash"),
    ],
)
def test_validation_messages(overrides: dict[str, Any], text: str) -> None:
    problems = validate_spec(template(**overrides)["spec"])
    assert any(text in p for p in problems), problems


def test_valid_spec_has_no_problems() -> None:
    assert validate_spec(template()["spec"]) == []


async def test_ops_errors_are_sim_errors(control: Control) -> None:
    with pytest.raises(SimError):
        await ControlOps(control).resume_actor("missing")
