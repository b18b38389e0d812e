"""`controller/runtime/recorder.py` on the devstack API: Event shape, de-duplication into a series, redaction."""

from __future__ import annotations

from typing import Any

from controller.runtime.clock import FakeClock
from controller.runtime.recorder import EventRecorder, RecorderConfig
from shared.kube.client import KubeClient, RequestCounter
from shared.kube.resources import EVENT, SECRET
from shared.secrets import Secret


async def regarding(kube: KubeClient, namespace: str) -> dict[str, Any]:
    return await kube.create(SECRET, {"metadata": {"name": "target", "namespace": namespace}})


async def test_event_shape_series_and_redaction(
    kube: KubeClient, namespace: str, counter: RequestCounter
) -> None:
    obj = await regarding(kube, namespace)
    clock = FakeClock()
    rec = EventRecorder(
        kube, RecorderConfig("kagent.dev/substrate", "pod-1", min_patch_interval=10), clock=clock
    )
    token = Secret("s3cr3t-token-value")
    note = "gateway rejected s3cr3t-token-value"
    assert await rec.warning(obj, "GatewayRejected", note, action="Connect", secrets=[token])
    events = (await kube.list(EVENT, namespace)).items
    assert len(events) == 1
    ev = events[0]
    assert (
        ev["type"] == "Warning" and ev["reason"] == "GatewayRejected" and ev["action"] == "Connect"
    )
    assert ev["note"] == "gateway rejected ***" and "s3cr3t" not in str(ev)
    assert (
        ev["reportingController"] == "kagent.dev/substrate" and ev["reportingInstance"] == "pod-1"
    )
    assert ev["regarding"]["uid"] == obj["metadata"]["uid"] and ev["regarding"]["kind"] == "Secret"
    assert ev["eventTime"].endswith("Z")

    writes = counter.writes
    assert await rec.warning(
        obj, "GatewayRejected", note, action="Connect", secrets=[token]
    )  # series: 2
    for _ in range(5):  # throttled: counted, not written
        assert await rec.warning(obj, "GatewayRejected", note, action="Connect", secrets=[token])
    assert counter.writes == writes + 1
    await clock.advance(11)
    assert await rec.warning(obj, "GatewayRejected", note, action="Connect", secrets=[token])
    events = (await kube.list(EVENT, namespace)).items
    assert len(events) == 1 and events[0]["series"]["count"] == 8

    assert await rec.normal(obj, "Created", "template created")
    assert len((await kube.list(EVENT, namespace)).items) == 2

    await clock.advance(1000)  # outside the series window: a new Event
    assert await rec.warning(obj, "GatewayRejected", note, secrets=[token])
    assert len((await kube.list(EVENT, namespace)).items) == 3


async def test_expired_event_is_recreated_and_failures_never_raise(
    kube: KubeClient, namespace: str
) -> None:
    obj = await regarding(kube, namespace)
    rec = EventRecorder(kube, RecorderConfig("c", "i", min_patch_interval=0), clock=FakeClock())
    assert await rec.normal(obj, "R", "n")
    (only,) = (await kube.list(EVENT, namespace)).items
    await kube.delete(EVENT, only["metadata"]["name"], namespace)
    assert await rec.normal(obj, "R", "n")
    assert len((await kube.list(EVENT, namespace)).items) == 1
    missing_ns = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "x", "namespace": "does-not-exist"},
    }
    assert await rec.normal(missing_ns, "R", "n") is False
