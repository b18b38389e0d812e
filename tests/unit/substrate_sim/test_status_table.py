"""spec §3.5 as a table: (state, event) → new state, or the error code and message."""

from __future__ import annotations

import pytest

from devstack.substrate.errors import SimError
from devstack.substrate.machine import Control
from devstack.substrate.state import (
    RESUMING,
    RUNNING,
    SUSPENDED,
    SUSPENDING,
    UNSPECIFIED,
)

ABSENT = "absent"
GONE = "gone"  # the actor was deleted

# state, event, expected: a status, GONE, or (code, message)
TABLE = [
    (ABSENT, "create", SUSPENDED),
    (ABSENT, "resume", ("NOT_FOUND", "Actor a not found")),
    (ABSENT, "suspend", ("NOT_FOUND", "Actor a not found")),
    (ABSENT, "delete", ("NOT_FOUND", "Actor a not found")),
    (SUSPENDED, "create", ("ALREADY_EXISTS", "Actor a already exists")),
    (SUSPENDED, "resume", RUNNING),
    (SUSPENDED, "suspend", SUSPENDED),
    (SUSPENDED, "delete", GONE),
    (SUSPENDED, "pod_deleted", SUSPENDED),
    (RESUMING, "create", ("ALREADY_EXISTS", "Actor a already exists")),
    (RESUMING, "resume", RUNNING),
    (RESUMING, "suspend", ("INVALID_ARGUMENT", 'invalid snapshot URI prefix "": missing bucket')),
    (
        RESUMING,
        "delete",
        ("FAILED_PRECONDITION", "Actor a is not suspended (status: STATUS_RESUMING)"),
    ),
    (RESUMING, "pod_deleted", SUSPENDED),
    (RUNNING, "create", ("ALREADY_EXISTS", "Actor a already exists")),
    (RUNNING, "resume", RUNNING),
    (RUNNING, "suspend", SUSPENDED),
    (
        RUNNING,
        "delete",
        ("FAILED_PRECONDITION", "Actor a is not suspended (status: STATUS_RUNNING)"),
    ),
    (RUNNING, "pod_deleted", SUSPENDED),
    (SUSPENDING, "create", ("ALREADY_EXISTS", "Actor a already exists")),
    (SUSPENDING, "resume", RUNNING),
    (SUSPENDING, "suspend", SUSPENDED),
    (
        SUSPENDING,
        "delete",
        ("FAILED_PRECONDITION", "Actor a is not suspended (status: STATUS_SUSPENDING)"),
    ),
    (SUSPENDING, "pod_deleted", SUSPENDED),
    (UNSPECIFIED, "create", ("ALREADY_EXISTS", "Actor a already exists")),
    (UNSPECIFIED, "resume", RUNNING),
    (UNSPECIFIED, "suspend", ("INTERNAL", "internal server error")),
    (
        UNSPECIFIED,
        "delete",
        ("FAILED_PRECONDITION", "Actor a is not suspended (status: STATUS_UNSPECIFIED)"),
    ),
]

#: readable test ids
STATE_NAMES = {
    ABSENT: "absent",
    0: "UNSPECIFIED",
    1: "RESUMING",
    2: "RUNNING",
    3: "SUSPENDING",
    4: "SUSPENDED",
}


async def put_in_state(control: Control, state: object) -> None:
    """Drive actor ``a`` into ``state`` through the real RPCs (and faults)."""
    if state == ABSENT:
        return
    control.create("a", "ns", "tmpl")
    if state == SUSPENDED:
        return
    if state == UNSPECIFIED:
        control.store.actors["a"].status = UNSPECIFIED
        return
    if state == RESUMING:
        control.faults.set("ResumeActor", atelet_fail=1)
        with pytest.raises(SimError, match="atelet"):
            await control.resume("a")
        return
    await control.resume("a")
    if state == SUSPENDING:
        control.faults.set("SuspendActor", stuck=1)
        with pytest.raises(SimError) as info:
            await control.suspend("a")
        assert info.value.code == "DEADLINE_EXCEEDED"


async def apply(control: Control, event: str) -> None:
    if event == "create":
        control.create("a", "ns", "tmpl")
    elif event == "resume":
        await control.resume("a")
    elif event == "suspend":
        await control.suspend("a")
    elif event == "delete":
        control.delete("a")
    elif event == "pod_deleted":
        actor = control.store.actors["a"]
        for key, worker in list(control.store.workers.items()):
            if worker.actor_id == "a" or (actor.pod_name and key[2] == actor.pod_name):
                control.remove_worker(key)


@pytest.mark.parametrize(
    ("state", "event", "expected"),
    TABLE,
    ids=[f"{STATE_NAMES[s]}-{e}" for s, e, _ in TABLE],
)
async def test_status_machine(
    control: Control, state: object, event: str, expected: object
) -> None:
    await put_in_state(control, state)
    assert state == ABSENT or control.store.actors["a"].status == state
    before = control.store.actors["a"].copy() if state != ABSENT else None
    if isinstance(expected, tuple):
        with pytest.raises(SimError) as info:
            await apply(control, event)
        assert (info.value.code, info.value.message) == expected
        after = control.store.actors.get("a")
        assert (after.status if after else ABSENT) == state  # state unchanged on error
        return
    await apply(control, event)
    if expected == GONE:
        assert "a" not in control.store.actors
        return
    after = control.store.actors["a"]
    assert after.status == expected
    if before is not None and before.status == expected and event != "pod_deleted":
        assert after.version == before.version  # no-op
    if expected == RUNNING:
        assert after.pod_ip and after.pod_name
        bound = [w for w in control.store.workers.values() if w.actor_id == "a"]
        assert len(bound) == 1 and (bound[0].actor_namespace, bound[0].actor_template) == (
            "ns",
            "tmpl",
        )
    if expected == SUSPENDED:
        assert after.pod_ip == "" and after.in_progress_snapshot == ""
        assert not [w for w in control.store.workers.values() if w.actor_id == "a"]


async def test_versions_and_snapshot_uri(control: Control) -> None:
    assert control.create("a", "ns", "tmpl").version == 1
    running = await control.resume("a")
    assert running.version == 3 and running.restored_from == "boot"
    suspended = await control.suspend("a")
    assert suspended.version == 5
    assert suspended.pod_uid == running.pod_uid  # never cleared (reference)
    prefix = "gs://bucket/prefix/a/"  # one trailing "/" of the location dropped
    assert suspended.last_snapshot.startswith(prefix)
    stamp, rand = suspended.last_snapshot[len(prefix) :].rsplit("-", 1)
    assert stamp.endswith("Z") and len(rand) == 26
    again = await control.resume("a")
    assert again.restored_from == f"snapshot:{suspended.last_snapshot}"


async def test_resume_of_suspending_restores_previous_snapshot_and_keeps_in_progress(
    control: Control,
) -> None:
    await put_in_state(control, SUSPENDING)
    actor = control.store.actors["a"]
    stale = actor.in_progress_snapshot
    assert stale and actor.last_snapshot == ""
    resumed = await control.resume("a")
    assert resumed.status == RUNNING and resumed.in_progress_snapshot == stale
    assert resumed.restored_from == "boot"


async def test_golden_snapshot_precedence(control: Control) -> None:
    from devstack.substrate.state import TemplateInfo

    control.put_template(
        TemplateInfo("ns", "tmpl", "ate-system", "default", "gs://b/p", "gs://g/1")
    )
    control.create("a", "ns", "tmpl")
    control.create("b", "ns", "tmpl")
    assert (await control.resume("a")).restored_from == "golden:gs://g/1"
    assert (await control.resume("b", boot=True)).restored_from == "boot"


async def test_no_free_workers_and_pool_matching(control: Control) -> None:
    from devstack.substrate.state import TemplateInfo

    control.set_pool_capacity("other-ns", "default", 3)  # same pool name, other namespace
    control.put_template(TemplateInfo("ns", "t2", "ate-system", "default"))
    for name in ("a", "b", "c"):
        control.create(name, "ns", "tmpl")
    await control.resume("a")
    await control.resume("b")
    with pytest.raises(SimError) as info:
        await control.resume("c")
    assert (info.value.code, info.value.message) == (
        "FAILED_PRECONDITION",
        "no free workers available",
    )
    assert control.store.actors["c"].version == 1 and control.store.actors["c"].status == SUSPENDED


async def test_retry_after_atelet_failure_reuses_the_worker(control: Control) -> None:
    await put_in_state(control, RESUMING)
    pod = control.store.actors["a"].pod_name
    assert (await control.resume("a")).pod_name == pod


def test_create_validation_order_and_texts(control: Control) -> None:
    cases = [
        (("", "", ""), "actor_template_namespace is required"),
        (("", "ns", ""), "actor_template_name is required"),
        (("", "ns", "tmpl"), "actor_id is required"),
        (("x" * 64, "ns", "tmpl"), "invalid actor_id: must be no more than 63 characters"),
        (
            ("ID1", "ns", "tmpl"),
            "invalid actor_id: must start and end with a lower case alphanumeric character, and consist only of lower case alphanumeric characters or '-'",
        ),
        (("id_1", "ns", "tmpl"), "invalid actor_id: must start"),
    ]
    for (actor_id, ns, name), text in cases:
        with pytest.raises(SimError) as info:
            control.create(actor_id, ns, name)
        assert info.value.code == "INVALID_ARGUMENT" and info.value.message.startswith(text)
    with pytest.raises(SimError, match="ActorTemplate ns/missing not found"):
        control.create("a", "ns", "missing")


async def test_empty_ids_and_malformed_get(control: Control) -> None:
    for call in (control.resume, control.suspend):
        with pytest.raises(SimError, match="id is required"):
            await call("")
    with pytest.raises(SimError, match=r"^INVALID_ARGUMENT: id is required$"):
        control.get("")
    with pytest.raises(SimError, match=r"^INVALID_ARGUMENT: actor_id is required$"):
        control.delete("")
    with pytest.raises(SimError, match="NOT_FOUND: Actor Foo not found"):
        control.get("Foo")
    with pytest.raises(SimError, match="INVALID_ARGUMENT: invalid actor_id"):
        control.delete("Foo")


def test_list_actors_paging_and_limits(control: Control) -> None:
    for i in range(25):
        control.create(f"a{i:02d}", "ns", "tmpl")
    seen: list[str] = []
    token = ""
    while True:
        page, token = control.list_actors(10, token)
        seen += [a.actor_id for a in page]
        if not token:
            break
    assert seen == sorted(control.store.actors)
    assert len(control.list_actors(0, "")[0]) == 25
    for size, text in (
        (-1, "page_size cannot be negative"),
        (1001, "page_size 1001 exceeds maximum page size 1000"),
    ):
        with pytest.raises(SimError, match=text):
            control.list_actors(size, "")
    with pytest.raises(SimError, match="INTERNAL: internal server error"):
        control.list_actors(10, "!!!")


async def test_debug_clear_and_scale_down(control: Control) -> None:
    control.create("a", "ns", "tmpl")
    await control.resume("a")
    control.set_pool_capacity("ate-system", "default", 1)  # the free worker goes first
    assert control.store.actors["a"].status == RUNNING
    control.set_pool_capacity("ate-system", "default", 0)
    assert control.store.actors["a"].status == SUSPENDED and not control.store.workers
    control.debug_clear()
    assert not control.store.actors and not control.store.locks
