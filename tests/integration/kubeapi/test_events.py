"""Events on the stand-in: ``events.k8s.io/v1`` and core ``v1`` are one store, as on a real
apiserver, so real kubectl shows an events.k8s.io Event in ``get events`` and ``describe``."""

from __future__ import annotations

from typing import Any

from tests.integration.kubeapi.conftest import Kubectl, ensure_crd, raw

WIDGET = """apiVersion: test.kagent.dev/v1
kind: Widget
metadata:
  name: {name}
  namespace: {ns}
spec:
  size: 1
"""


def new_event(ns: str, regarding: dict[str, Any], name: str = "w1.ev1") -> dict[str, Any]:
    """An Event as controller/events.py writes it (events.k8s.io/v1)."""
    return {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": ns},
        "eventTime": "2026-01-02T03:04:05.000000Z",
        "reportingController": "kagent.dev/substrate-controller",
        "reportingInstance": "controller-0",
        "action": "Reconcile",
        "reason": "SecretMissing",
        "regarding": regarding,
        "note": 'secret "gw" not found',
        "type": "Warning",
    }


def test_events_api_and_core_share_one_store(api, namespace: str) -> None:
    ref = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "namespace": namespace,
        "name": "cm",
        "uid": "u1",
    }
    base = f"/apis/events.k8s.io/v1/namespaces/{namespace}/events"
    status, created, _ = raw(api, "POST", base, new_event(namespace, ref))
    assert status == 201, created
    assert (
        created["apiVersion"] == "events.k8s.io/v1" and created["note"] == 'secret "gw" not found'
    )

    status, core, _ = raw(api, "GET", f"/api/v1/namespaces/{namespace}/events/w1.ev1")
    assert status == 200, core
    assert core["apiVersion"] == "v1" and core["involvedObject"] == ref
    assert core["message"] == 'secret "gw" not found'
    assert core["reportingComponent"] == "kagent.dev/substrate-controller"
    assert core["reportingInstance"] == "controller-0" and core["eventTime"] == created["eventTime"]
    assert not {"regarding", "note", "reportingController"} & set(core)
    assert core["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]

    # A series patch through the events API is seen by core readers; a core write by the new API.
    series = {"series": {"count": 3, "lastObservedTime": "2026-01-02T03:09:05.000000Z"}}
    patch_headers = {"Content-Type": "application/merge-patch+json"}
    status, _, _ = raw(api, "PATCH", f"{base}/w1.ev1", series, patch_headers)
    assert status == 200
    _, core, _ = raw(api, "GET", f"/api/v1/namespaces/{namespace}/events/w1.ev1")
    assert core["series"]["count"] == 3
    legacy = {"count": 2, "source": {"component": "kubelet"}, "message": "pulled"}
    status, _, _ = raw(
        api, "PATCH", f"/api/v1/namespaces/{namespace}/events/w1.ev1", legacy, patch_headers
    )
    assert status == 200
    _, new, _ = raw(api, "GET", f"{base}/w1.ev1")
    assert new["deprecatedCount"] == 2 and new["deprecatedSource"] == {"component": "kubelet"}
    assert new["note"] == "pulled" and new["regarding"] == ref

    # Field selectors: the events API names its own fields; unknown labels are refused.
    _, listed, _ = raw(api, "GET", f"{base}?fieldSelector=regarding.name%3Dcm,type%3DWarning")
    assert [e["metadata"]["name"] for e in listed["items"]] == ["w1.ev1"]
    status, refused, _ = raw(api, "GET", f"{base}?fieldSelector=involvedObject.name%3Dcm")
    assert status == 400 and "field label not supported: involvedObject.name" in refused["message"]
    _, listed, _ = raw(
        api, "GET", f"/api/v1/namespaces/{namespace}/events?fieldSelector=source%3Dkubelet"
    )
    assert [e["metadata"]["name"] for e in listed["items"]] == ["w1.ev1"]

    status, _, _ = raw(api, "DELETE", f"/api/v1/namespaces/{namespace}/events/w1.ev1")
    assert status == 200
    status, _, _ = raw(api, "GET", f"{base}/w1.ev1")
    assert status == 404


def test_kubectl_get_events_and_describe_show_an_events_api_event(
    api, client, kubectl: Kubectl, namespace: str
) -> None:
    ensure_crd(client)
    kubectl("apply", "-f", "-", stdin=WIDGET.format(name="w1", ns=namespace))
    widget = kubectl.json("get", "widget", "w1", "-n", namespace)
    ref = {
        "apiVersion": "test.kagent.dev/v1",
        "kind": "Widget",
        "namespace": namespace,
        "name": "w1",
        "uid": widget["metadata"]["uid"],
    }
    status, body, _ = raw(
        api,
        "POST",
        f"/apis/events.k8s.io/v1/namespaces/{namespace}/events",
        new_event(namespace, ref),
    )
    assert status == 201, body

    table = kubectl("get", "events", "-n", namespace).stdout.splitlines()
    assert table[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"], table
    assert table[1].split()[1:5] == ["Warning", "SecretMissing", "widget/w1", "secret"], table
    described = kubectl("describe", "widget", "w1", "-n", namespace).stdout
    events = described.split("Events:", 1)[1]
    assert "Warning  SecretMissing" in events, described
    assert "kagent.dev/substrate-controller" in events and 'secret "gw" not found' in events
