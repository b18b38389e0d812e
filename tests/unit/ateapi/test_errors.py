"""Error classification (spec §7.3) and status labels (spec §7.4)."""

from __future__ import annotations

import pytest

from shared.ateapi.convert import ActorStatus, actor_from_pb, status_label, status_name
from shared.ateapi.errors import (
    AteApiError,
    FailedPrecondition,
    Internal,
    NoFreeWorkers,
    NotFound,
    NotSuspended,
    TemplateNotFound,
    TlsError,
    Unavailable,
    UnknownError,
    classify,
    is_no_free_workers,
)
from shared.ateapi.wire import pb


@pytest.mark.parametrize(
    ("code", "details", "kind"),
    [
        ("NOT_FOUND", "Actor a not found", NotFound),
        ("FAILED_PRECONDITION", "no free workers available", NoFreeWorkers),
        ("UNAVAILABLE", "No Free Workers in pool", NoFreeWorkers),
        ("FAILED_PRECONDITION", "Actor a is not suspended (status: STATUS_RUNNING)", NotSuspended),
        ("FAILED_PRECONDITION", "ActorTemplate ns/t not found", TemplateNotFound),
        (
            "FAILED_PRECONDITION",
            "no worker pool matches the template's sandboxClass and the template/actor selectors",
            FailedPrecondition,
        ),
        ("INTERNAL", "internal server error", Internal),
        ("UNAVAILABLE", "Socket closed", Unavailable),
        ("UNAVAILABLE", "Tls handshake failed ... CERTIFICATE_VERIFY_FAILED", TlsError),
        ("DATA_LOSS", "boom", UnknownError),
    ],
)
def test_classify(code: str, details: str, kind: type[AteApiError]) -> None:
    err = classify("ResumeActor", code, details)
    assert type(err) is kind
    assert err.details == details and err.code == code and err.method == "ResumeActor"


def test_no_free_workers_classifier() -> None:
    assert is_no_free_workers(
        classify("ResumeActor", "FAILED_PRECONDITION", "no free workers available")
    )
    assert is_no_free_workers(RuntimeError("wrapped: No Free Workers"))
    assert not is_no_free_workers(RuntimeError("boom"))
    assert not is_no_free_workers(
        classify("ResumeActor", "FAILED_PRECONDITION", "no worker pool matches the template")
    )


def test_retryable_flags() -> None:
    assert classify("GetActor", "UNAVAILABLE", "x").retryable
    assert classify("GetActor", "DEADLINE_EXCEEDED", "x").retryable
    assert not classify("GetActor", "UNAVAILABLE", "CERTIFICATE_VERIFY_FAILED").retryable
    assert not classify("GetActor", "ABORTED", "x").retryable


@pytest.mark.parametrize(
    ("number", "label", "name"),
    [
        (0, "Unknown", "STATUS_UNSPECIFIED"),
        (1, "Resuming", "STATUS_RESUMING"),
        (2, "Running", "STATUS_RUNNING"),
        (3, "Suspending", "STATUS_SUSPENDING"),
        (4, "Suspended", "STATUS_SUSPENDED"),
        (6, "6", "6"),
        (7, "7", "7"),
    ],
)
def test_status_labels(number: int, label: str, name: str) -> None:
    assert (status_label(number), status_name(number)) == (label, name)


def test_unknown_status_is_explicit() -> None:
    msg = pb.Actor.FromString(bytes.fromhex("0a0161 2806"))  # status 6 (PAUSED upstream)
    actor = actor_from_pb(msg)
    assert actor.status is ActorStatus.UNKNOWN and actor.status_number == 6
    assert actor.status_label == "6"
