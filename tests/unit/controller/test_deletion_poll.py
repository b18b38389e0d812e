"""Cleanup checks of an object being deleted: steady while within --delete-timeout, then backing
off with the overrun, capped."""

from __future__ import annotations

import datetime as dt

import pytest

from controller.substrate.objects import DELETE_POLL_CAP, deletion_age, deletion_poll


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (0.0, 2.0),
        (299.0, 2.0),
        (300.0, 2.0),
        (310.0, 2.0),  # a tenth of 10 s is below the base
        (400.0, 10.0),
        (800.0, 50.0),
        (3600.0, DELETE_POLL_CAP),
    ],
)
def test_poll_grows_after_the_timeout_and_is_capped(age: float, expected: float) -> None:
    assert deletion_poll(age, 300.0, 2.0) == expected


def test_age_from_deletion_timestamp() -> None:
    now = dt.datetime(2026, 1, 1, 0, 10, tzinfo=dt.UTC)
    assert deletion_age({"deletionTimestamp": "2026-01-01T00:00:00Z"}, now) == 600.0
    assert deletion_age({}, now) == 0.0
    assert deletion_age({"deletionTimestamp": "not a time"}, now) == 0.0
