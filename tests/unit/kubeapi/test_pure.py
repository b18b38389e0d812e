"""Pure pieces of the stand-in: selectors, patches, JSONPath/table cells, store history."""

from __future__ import annotations

import pytest

from devstack.kubeapi.errors import ApiError
from devstack.kubeapi.patching import apply_patch, json_patch, merge_patch, strategic_merge
from devstack.kubeapi.selectors import (
    label_selector_object,
    parse_field_selector,
    parse_label_selector,
)
from devstack.kubeapi.storage import Store
from devstack.kubeapi.tables import human_duration, jsonpath


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("a=b", {"a": "b"}, True),
        ("a==b,c!=d", {"a": "b", "c": "e"}, True),
        ("a in (x, y)", {"a": "y"}, True),
        ("a notin (x)", {}, True),
        ("!a", {"a": "1"}, False),
        ("a", {"a": ""}, True),
    ],
)
def test_label_selector(selector, labels, expected):
    assert parse_label_selector(selector)(labels) is expected


def test_label_selector_object_and_field_selector():
    sel = {
        "matchLabels": {"a": "1"},
        "matchExpressions": [{"key": "b", "operator": "DoesNotExist"}],
    }
    assert label_selector_object(sel)({"a": "1"}) and not label_selector_object(sel)(
        {"a": "1", "b": "x"}
    )
    match = parse_field_selector("metadata.name=x,type!=Opaque")
    assert match({"metadata": {"name": "x"}, "type": "tls"})
    assert not match({"metadata": {"name": "x"}, "type": "Opaque"})
    with pytest.raises(ApiError):
        parse_field_selector("nonsense")


def test_patches():
    assert merge_patch({"a": {"b": 1, "c": 2}}, {"a": {"b": None, "d": 3}}) == {
        "a": {"c": 2, "d": 3}
    }
    assert json_patch(
        {"a": [1, 2]}, [{"op": "add", "path": "/a/-", "value": 3}, {"op": "remove", "path": "/a/0"}]
    ) == {"a": [2, 3]}
    with pytest.raises(ApiError) as err:
        json_patch({}, [{"op": "remove", "path": "/missing"}])
    assert err.value.code == 422
    current = {"webhooks": [{"name": "a", "x": 1}, {"name": "b", "x": 2}]}
    patched = strategic_merge(
        current,
        {
            "$setElementOrder/webhooks": [{"name": "a"}, {"name": "b"}],
            "webhooks": [{"name": "b", "x": 3}],
        },
    )
    assert patched == {"webhooks": [{"name": "a", "x": 1}, {"name": "b", "x": 3}]}
    with pytest.raises(ApiError) as err:
        apply_patch("application/apply-patch+yaml", {}, {}, custom=True)
    assert err.value.code == 415


def test_jsonpath_and_durations():
    obj = {
        "status": {
            "conditions": [{"type": "A", "status": "False"}, {"type": "Ready", "status": "True"}]
        }
    }
    assert jsonpath(obj, '.status.conditions[?(@.type=="Ready")].status') == ["True"]
    assert jsonpath(obj, ".status.conditions[0].type") == ["A"]
    assert jsonpath(obj, ".spec.missing") == []
    assert [human_duration(s) for s in (5, 150, 3600 * 3 + 60, 86400 * 3)] == [
        "5s",
        "2m30s",
        "3h1m",
        "3d",
    ]


def test_store_history_horizon_answers_410():
    store = Store(history_size=2)
    for i in range(4):
        store.put(
            ("", "configmaps"), {"metadata": {"name": f"c{i}", "namespace": "d", "uid": str(i)}}
        )
    assert [c.obj["metadata"]["name"] for c in store.changes_since(("", "configmaps"), 2)] == [
        "c2",
        "c3",
    ]
    with pytest.raises(ApiError) as err:
        store.changes_since(("", "configmaps"), 1)
    assert err.value.code == 410
    restored = Store()
    restored.restore(store.dump())
    assert restored.rv == 4 and restored.get(("", "configmaps"), ("d", "c3")) is not None
