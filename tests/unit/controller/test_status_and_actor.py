"""Condition table (spec §5.7, §6) and the actor step machines (§5.7 ensure, §7.2 delete)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from controller.harness import status as st
from controller.substrate import actor as actors
from shared.ateapi import errors as ate
from shared.ateapi.convert import Actor, ActorStatus
from shared.conditions import set_condition

OURS = ("team-a", "claw")


def make(
    actor_id: str, status: ActorStatus, template: tuple[str, str] = OURS, ip: str = ""
) -> Actor:
    return Actor(actor_id, 1, template[0], template[1], status, int(status), pod_ip=ip)


class FakeAte:
    """In-memory ate-api with the server's status machine for the calls we make."""

    def __init__(self, *actors_: Actor, full: bool = False) -> None:
        self.actors = {a.actor_id: a for a in actors_}
        self.full = full
        self.calls: list[tuple[str, str]] = []

    async def get_actor(self, actor_id: str) -> Actor:
        self.calls.append(("get", actor_id))
        if actor_id not in self.actors:
            raise ate.NotFound("GetActor", "NOT_FOUND", f"Actor {actor_id} not found")
        return self.actors[actor_id]

    async def create_actor(self, actor_id: str, ns: str, name: str) -> Actor:
        self.calls.append(("create", actor_id))
        if actor_id in self.actors:
            raise ate.AlreadyExists("CreateActor", "ALREADY_EXISTS", "taken")
        self.actors[actor_id] = make(actor_id, ActorStatus.SUSPENDED, (ns, name))
        return self.actors[actor_id]

    async def resume_actor(self, actor_id: str) -> Actor:
        self.calls.append(("resume", actor_id))
        if self.full:
            raise ate.NoFreeWorkers(
                "ResumeActor", "FAILED_PRECONDITION", "no free workers available"
            )
        self.actors[actor_id] = replace(
            self.actors[actor_id], status=ActorStatus.RUNNING, status_number=2
        )
        return self.actors[actor_id]

    async def suspend_actor(self, actor_id: str) -> Actor:
        self.calls.append(("suspend", actor_id))
        self.actors[actor_id] = replace(
            self.actors[actor_id], status=ActorStatus.SUSPENDED, status_number=4
        )
        return self.actors[actor_id]

    async def delete_actor(self, actor_id: str) -> None:
        self.calls.append(("delete", actor_id))
        if self.actors[actor_id].status != ActorStatus.SUSPENDED:
            raise ate.NotSuspended("DeleteActor", "FAILED_PRECONDITION", "not suspended")
        del self.actors[actor_id]


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (
            make("a", ActorStatus.RUNNING, ip="10.0.0.7"),
            ("True", "ActorRunning", "actor running on 10.0.0.7"),
        ),
        (make("a", ActorStatus.RUNNING), ("True", "ActorRunning", "actor is running")),
        (make("a", ActorStatus.RESUMING), ("False", "ActorResuming", "actor is resuming")),
        (make("a", ActorStatus.SUSPENDING), ("False", "ActorSuspending", "actor is suspending")),
        (make("a", ActorStatus.SUSPENDED), ("False", "ActorSuspended", "actor is suspended")),
        (
            make("a", ActorStatus.UNSPECIFIED),
            ("Unknown", "ActorStatusUnknown", "STATUS_UNSPECIFIED"),
        ),
        (Actor("a", 1, "n", "t", ActorStatus.UNKNOWN, 6), ("Unknown", "ActorStatusUnknown", "6")),
        (None, ("Unknown", "ActorNotFound", 'substrate actor "a" not found')),
    ],
)
def test_get_status_table(actor: Actor | None, expected: tuple[str, str, str]) -> None:
    cond = st.actor_status(actor, "a")
    assert (cond.status, cond.reason, cond.message) == expected


def test_missing_handle() -> None:
    assert st.actor_status(None, "").reason == "ActorHandleMissing"


def test_ready_needs_running_and_reachable() -> None:
    running = st.actor_status(make("a", ActorStatus.RUNNING), "a")
    ready = {c.type: c for c in st.actor_outcome(running, reachable=True)}
    assert ready["Ready"].status == "True" and ready["BootstrapReady"].reason == "BootstrapComplete"
    unreachable = {c.type: c for c in st.actor_outcome(running, reachable=False)}
    assert (
        unreachable["Ready"].status == "False" and unreachable["Ready"].reason == "ActorUnreachable"
    )


def test_condition_strings_of_the_spec() -> None:
    pending = {c.type: c for c in st.template_pending()}
    assert pending["Ready"].message == "ActorTemplate is not Ready yet"
    assert pending["ActorReady"].reason == "ActorNotCreated"
    assert (
        st.backend_unavailable("hermes")[0].message
        == 'no substrate backend configured for "hermes"'
    )
    assert st.delete_timeout()[0].message == "substrate cleanup exceeded timeout"
    assert (
        st.endpoint_text("kagent", "claw", None)
        == "kagent gateway: /api/agentharnesses/kagent/claw/gateway/"
    )


def test_transition_time_moves_only_on_status_change() -> None:
    conds: list = []
    assert set_condition(conds, "Ready", "False", "A", "m", 1, "t1")
    assert not set_condition(conds, "Ready", "False", "A", "m", 1, "t2")
    assert set_condition(conds, "Ready", "False", "B", "m", 2, "t3")
    assert conds[0]["lastTransitionTime"] == "t1" and conds[0]["observedGeneration"] == 2
    assert set_condition(conds, "Ready", "True", "B", "m", 2, "t4")
    assert conds[0]["lastTransitionTime"] == "t4"


async def test_ensure_creates_then_resumes() -> None:
    fake = FakeAte()
    got = await actors.ensure_actor(fake, ["", "ahr-team-a-claw"], OURS)
    assert (
        got.actor_id == "ahr-team-a-claw" and got.actor and got.actor.status == ActorStatus.RUNNING
    )
    assert [c[0] for c in fake.calls] == ["get", "create", "resume"]


async def test_ensure_leaves_running_and_resuming_alone() -> None:
    for status in (ActorStatus.RUNNING, ActorStatus.RESUMING, ActorStatus.SUSPENDING):
        fake = FakeAte(make("x", status))
        await actors.ensure_actor(fake, ["x"], OURS)
        assert [c[0] for c in fake.calls] == ["get"]


async def test_ensure_uses_the_hashed_id_when_the_reference_id_is_someone_elses() -> None:
    fake = FakeAte(make("ahr-a-b-c", ActorStatus.RUNNING, template=("a-b", "c")))
    got = await actors.ensure_actor(fake, ["ahr-a-b-c", "ahr-hashed"], ("a", "b-c"))
    assert got.actor_id == "ahr-hashed" and got.conflict_with == "ahr-a-b-c"
    assert fake.actors["ahr-a-b-c"].status == ActorStatus.RUNNING  # untouched


async def test_ensure_reports_no_free_workers() -> None:
    got = await actors.ensure_actor(FakeAte(full=True), ["x"], OURS)
    assert got.no_free_workers


async def test_delete_step_machine_over_passes() -> None:
    fake = FakeAte(make("x", ActorStatus.RUNNING))
    assert await actors.delete_step(fake, "x", OURS) is False  # suspend
    assert await actors.delete_step(fake, "x", OURS) is False  # delete
    assert await actors.delete_step(fake, "x", OURS) is True  # confirmed gone
    assert [c for c in fake.calls if c[0] != "get"] == [("suspend", "x"), ("delete", "x")]


async def test_delete_step_never_touches_another_templates_actor() -> None:
    fake = FakeAte(make("x", ActorStatus.SUSPENDED, template=("other", "t")))
    assert await actors.delete_step(fake, "x", OURS) is True
    assert "x" in fake.actors


async def test_delete_step_empty_id_and_missing_actor_are_done() -> None:
    fake = FakeAte()
    assert await actors.delete_step(fake, "", OURS) is True
    assert await actors.delete_step(fake, "gone", OURS) is True
