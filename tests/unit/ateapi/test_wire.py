"""Wire pins: each message encodes to hand-written golden bytes (field numbers and types),
the enum values are 0-4, and the method paths are the reference's.
"""

from __future__ import annotations

from typing import Any

import pytest

from shared.ateapi.wire import METHODS, pb

ACTOR = dict(
    actor_id="a",
    version=2,
    actor_template_namespace="n",
    actor_template_name="t",
    status=2,
    ateom_pod_namespace="p",
    ateom_pod_name="q",
    ateom_pod_ip="i",
    last_snapshot="l",
    in_progress_snapshot="m",
    ateom_pod_uid="u",
)
ACTOR_BYTES = bytes.fromhex(
    "0a0161 1002 1a016e 220174 2802 320170 3a0171 420169 4a016c 52016d 5a0175"
)

CASES: list[tuple[str, Any, bytes]] = [
    ("Actor", pb.Actor(**ACTOR), ACTOR_BYTES),
    (
        "Worker",
        pb.Worker(
            worker_namespace="n",
            worker_pool="p",
            worker_pod="q",
            actor_namespace="a",
            actor_template="t",
            actor_id="x",
            ip="i",
            version=3,
            worker_pod_uid="u",
        ),
        bytes.fromhex("0a016e 120170 1a0171 220161 2a0174 320178 3a0169 4003 4a0175"),
    ),
    ("GetActorRequest", pb.GetActorRequest(actor_id="a"), bytes.fromhex("0a0161")),
    (
        "GetActorResponse",
        pb.GetActorResponse(actor=pb.Actor(actor_id="a")),
        bytes.fromhex("0a03 0a0161"),
    ),
    (
        "CreateActorRequest",
        pb.CreateActorRequest(actor_id="a", actor_template_namespace="n", actor_template_name="t"),
        bytes.fromhex("0a0161 12016e 1a0174"),
    ),
    (
        "CreateActorResponse",
        pb.CreateActorResponse(actor=pb.Actor(version=1)),
        bytes.fromhex("0a02 1001"),
    ),
    ("SuspendActorRequest", pb.SuspendActorRequest(actor_id="a"), bytes.fromhex("0a0161")),
    (
        "SuspendActorResponse",
        pb.SuspendActorResponse(actor=pb.Actor(status=4)),
        bytes.fromhex("0a02 2804"),
    ),
    (
        "ResumeActorRequest",
        pb.ResumeActorRequest(actor_id="a", boot=True),
        bytes.fromhex("0a0161 1001"),
    ),
    (
        "ResumeActorResponse",
        pb.ResumeActorResponse(actor=pb.Actor(status=1)),
        bytes.fromhex("0a02 2801"),
    ),
    ("DeleteActorRequest", pb.DeleteActorRequest(actor_id="a"), bytes.fromhex("0a0161")),
    ("DeleteActorResponse", pb.DeleteActorResponse(), b""),
    ("ListWorkersRequest", pb.ListWorkersRequest(), b""),
    (
        "ListWorkersResponse",
        pb.ListWorkersResponse(workers=[pb.Worker(ip="i")]),
        bytes.fromhex("0a03 3a0169"),
    ),
    (
        "ListActorsRequest",
        pb.ListActorsRequest(page_size=1000, page_token="t"),
        bytes.fromhex("08e807 120174"),
    ),
    (
        "ListActorsResponse",
        pb.ListActorsResponse(actors=[pb.Actor(actor_id="a")], next_page_token="n"),
        bytes.fromhex("0a03 0a0161 12016e"),
    ),
    ("DebugClearRequest", pb.DebugClearRequest(), b""),
    ("DebugClearResponse", pb.DebugClearResponse(), b""),
    (
        "MintJWTRequest",
        pb.MintJWTRequest(audience=["x", "y"], app_id="a", user_id="u", session_id="s"),
        bytes.fromhex("0a0178 0a0179 120161 1a0175 220173"),
    ),
    ("MintJWTResponse", pb.MintJWTResponse(session_jwt="j"), bytes.fromhex("0a016a")),
    (
        "MintCertRequest",
        pb.MintCertRequest(
            app_id="a", user_id="u", session_id="s", certificate_signing_request=b"\x01"
        ),
        bytes.fromhex("0a0161 120175 1a0173 220101"),
    ),
    (
        "MintCertResponse",
        pb.MintCertResponse(session_certificates=[b"\x01", b"\x02"]),
        bytes.fromhex("0a0101 0a0102"),
    ),
]


@pytest.mark.parametrize(("name", "message", "golden"), CASES, ids=[c[0] for c in CASES])
def test_message_encodes_to_golden_bytes(name: str, message: Any, golden: bytes) -> None:
    assert message.SerializeToString(deterministic=True) == golden
    assert type(message).FromString(golden) == message
    assert message.DESCRIPTOR.full_name == f"ateapi.{name}"


def test_every_message_has_a_golden_case() -> None:
    declared = set(pb.DESCRIPTOR.message_types_by_name)
    assert declared == {c[0] for c in CASES}


def test_status_enum_values() -> None:
    names = {v.name: v.number for v in pb.Actor.Status.DESCRIPTOR.values}
    assert names == {
        "STATUS_UNSPECIFIED": 0,
        "STATUS_RESUMING": 1,
        "STATUS_RUNNING": 2,
        "STATUS_SUSPENDING": 3,
        "STATUS_SUSPENDED": 4,
    }


def test_method_paths_match_the_descriptor() -> None:
    service = pb.DESCRIPTOR.services_by_name["Control"]
    assert pb.DESCRIPTOR.package == "ateapi"
    declared = {m.name: (m.input_type.name, m.output_type.name) for m in service.methods}
    ours = {n: (m.request.DESCRIPTOR.name, m.response.DESCRIPTOR.name) for n, m in METHODS.items()}
    assert declared == ours
    assert sorted(m.path for m in METHODS.values()) == sorted(
        f"/ateapi.Control/{n}"
        for n in (
            "GetActor",
            "CreateActor",
            "SuspendActor",
            "ResumeActor",
            "DeleteActor",
            "ListWorkers",
            "ListActors",
            "DebugClear",
        )
    )
    identity = pb.DESCRIPTOR.services_by_name["SessionIdentity"]
    assert [m.name for m in identity.methods] == ["MintJWT", "MintCert"]
