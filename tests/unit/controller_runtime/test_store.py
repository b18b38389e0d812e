"""`shared/kube/watching.Store`: indexes and relist diffs."""

from __future__ import annotations

from typing import Any

from shared.api.keys import ObjectKey
from shared.kube.watching import Store


def obj(name: str, rv: str, ref: str = "", ns: str = "n") -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": ns, "resourceVersion": rv},
        "spec": {"ref": ref},
    }


def by_ref(o: dict[str, Any]) -> list[str]:
    ref = o["spec"]["ref"]
    return [ref] if ref else []


def test_indexes_follow_updates_and_removals() -> None:
    store = Store({"ref": by_ref})
    store.upsert(obj("a", "1", "x"))
    store.upsert(obj("b", "1", "x"))
    assert store.index_keys("ref", "x") == [ObjectKey("n", "a"), ObjectKey("n", "b")]
    old = store.upsert(obj("a", "2", "y"))
    assert old is not None and old["spec"]["ref"] == "x"
    assert store.index_keys("ref", "x") == [ObjectKey("n", "b")]
    assert [o["metadata"]["name"] for o in store.by_index("ref", "y")] == ["a"]
    store.remove(ObjectKey("n", "b"))
    assert store.index_keys("ref", "x") == [] and len(store) == 1
    store.add_indexer("name", lambda o: [o["metadata"]["name"]])
    assert store.index_keys("name", "a") == [ObjectKey("n", "a")]


def test_replace_reports_added_modified_deleted() -> None:
    store = Store()
    first = store.replace([obj("a", "1"), obj("b", "1")])
    assert [(e.type, e.key.name, e.from_list) for e in first] == [
        ("ADDED", "a", True),
        ("ADDED", "b", True),
    ]
    second = store.replace([obj("a", "1"), obj("c", "3"), obj("b", "2")])
    assert sorted((e.type, e.key.name) for e in second) == [("ADDED", "c"), ("MODIFIED", "b")]
    third = store.replace([obj("c", "3")])
    assert sorted((e.type, e.key.name) for e in third) == [("DELETED", "a"), ("DELETED", "b")]
    assert all(e.old is not None for e in third) and store.keys() == [ObjectKey("n", "c")]


def test_object_key_forms() -> None:
    assert str(ObjectKey("ns", "a")) == "ns/a" and str(ObjectKey("", "c")) == "c"
    assert ObjectKey.parse("ns/a") == ObjectKey("ns", "a") and ObjectKey.parse("c") == ObjectKey(
        "", "c"
    )
    assert ObjectKey.of({"metadata": {"name": "x"}}) == ObjectKey("", "x")


def test_relist_of_one_namespace_keeps_the_others() -> None:
    """A store shared by per-namespace watchers (``--namespaces a,b``): relisting ``a`` must not
    drop ``b``'s objects."""
    store = Store()
    store.replace([obj("x", "1", ns="a")], "a")
    store.replace([obj("y", "1", ns="b")], "b")
    events = store.replace([], "a")
    assert [(e.type, str(e.key)) for e in events] == [("DELETED", "a/x")]
    assert store.keys() == [ObjectKey("b", "y")]
