"""Time to Ready (from creation, or from Ready leaving True) and the deletion gauges computed at
scrape time from what the cache holds: they drop back when the object is gone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Gauge, generate_latest

from controller.substrate.metrics import ObjectMetrics
from controller.substrate.objects import not_ready_since, parse_time

T0 = dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.UTC)
FIN = "kagent.dev/agent-harness-backend-cleanup"


def at(seconds: float) -> str:
    return (T0 + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def obj(ready: str | None = None, since: float = 0, **meta: Any) -> dict[str, Any]:
    conditions = []
    if ready is not None:
        conditions.append({"type": "Ready", "status": ready, "lastTransitionTime": at(since)})
    return {
        "metadata": {"name": "n", "namespace": "ns", "creationTimestamp": at(0), **meta},
        "status": {"conditions": conditions},
    }


@pytest.mark.parametrize(
    ("o", "expected"),
    [
        (obj(), T0),  # never written: from creation
        (obj("False", 3), T0 + dt.timedelta(seconds=3)),  # from when Ready left True
        (obj("Unknown", 7), T0 + dt.timedelta(seconds=7)),
        (obj("True", 9), T0),  # (not a turn to Ready; creation is the only anchor)
        ({"metadata": {}}, None),
    ],
)
def test_not_ready_since(o: dict[str, Any], expected: dt.datetime | None) -> None:
    assert not_ready_since(o) == expected


def test_parse_time() -> None:
    assert parse_time("2026-01-01T00:00:00Z") == T0
    assert parse_time("2026-01-01T00:00:00") == T0  # naive: taken as UTC
    assert parse_time("") is None and parse_time(None) is None and parse_time("soon") is None


def count(registry: CollectorRegistry, kind: str) -> float | None:
    return registry.get_sample_value("kagent_substrate_time_to_ready_seconds_count", {"kind": kind})


def test_ready_observes_seconds_per_kind() -> None:
    registry = CollectorRegistry()
    m = ObjectMetrics(registry)
    assert m.ready("AgentHarness", obj(), T0 + dt.timedelta(seconds=42)) == 42
    assert m.ready("AgentHarness", obj("False", 100), T0 + dt.timedelta(seconds=130)) == 30
    # A clock behind the API server's never observes a negative duration.
    assert m.ready("SandboxAgent", obj("False", 100), T0) == 0
    assert count(registry, "AgentHarness") == 2
    assert count(registry, "SandboxAgent") == 1
    total = "kagent_substrate_time_to_ready_seconds_sum"
    assert registry.get_sample_value(total, {"kind": "AgentHarness"}) == 72


def test_deletion_gauges_follow_the_cache() -> None:
    now = T0 + dt.timedelta(seconds=600)
    registry = CollectorRegistry()
    m = ObjectMetrics(registry, clock=lambda: now)
    held: list[dict[str, Any]] = []
    m.track("AgentHarness", FIN, lambda: held)

    def gauges() -> tuple[float | None, float | None]:
        labels = {"kind": "AgentHarness"}
        return (
            registry.get_sample_value("kagent_substrate_deletions_pending", labels),
            registry.get_sample_value("kagent_substrate_oldest_deletion_age_seconds", labels),
        )

    assert gauges() == (0, 0)  # the series exist before any deletion
    held += [
        obj(finalizers=[FIN]),  # live
        obj(deletionTimestamp=at(100), finalizers=[FIN]),
        obj(deletionTimestamp=at(500), finalizers=["other", FIN]),
        obj(deletionTimestamp=at(0), finalizers=["other"]),  # ours released: not ours to wait on
    ]
    assert gauges() == (2, 500)
    held[:] = held[2:]  # the oldest one is gone
    assert gauges() == (1, 100)
    held.clear()
    assert gauges() == (0, 0)
    text = generate_latest(registry).decode()
    assert 'kagent_substrate_deletions_pending{kind="AgentHarness"} 0.0' in text
    assert "SandboxAgent" not in text  # only the kinds whose controller runs


def test_the_gauges_are_described_so_a_clash_fails_at_start() -> None:
    registry = CollectorRegistry()
    Gauge("kagent_substrate_deletions_pending", "taken", registry=registry)
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        ObjectMetrics(registry)
