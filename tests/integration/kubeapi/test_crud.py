"""CRUD through the official sync client: create/get/list/update/patch/delete, selectors,
paging, conflicts, status subresource and generation, finalizers and garbage collection."""

from __future__ import annotations

import json

import kubernetes
import pytest
from kubernetes.client import ApiException, CoreV1Api, CustomObjectsApi

from tests.integration.kubeapi.conftest import ensure_crd, raw, wait_for


def _status(exc: ApiException) -> dict:
    return json.loads(exc.body)


def test_create_get_list_delete(client, namespace):
    core = CoreV1Api(client)
    created = core.create_namespaced_config_map(
        namespace, {"metadata": {"generateName": "cm-"}, "data": {"a": "1"}}
    )
    name = created.metadata.name
    assert name.startswith("cm-") and len(name) == 8
    assert (
        created.metadata.uid
        and created.metadata.creation_timestamp
        and created.metadata.resource_version
    )
    got = core.read_namespaced_config_map(name, namespace)
    assert got.data == {"a": "1"}
    assert [c.metadata.name for c in core.list_namespaced_config_map(namespace).items] == [name]
    core.delete_namespaced_config_map(name, namespace)
    with pytest.raises(ApiException) as err:
        core.read_namespaced_config_map(name, namespace)
    assert err.value.status == 404
    body = _status(err.value)
    assert body["reason"] == "NotFound" and body["message"] == f'configmaps "{name}" not found'


def test_already_exists_and_missing_namespace(client, namespace):
    core = CoreV1Api(client)
    core.create_namespaced_secret(namespace, {"metadata": {"name": "s"}, "stringData": {"k": "v"}})
    with pytest.raises(ApiException) as err:
        core.create_namespaced_secret(namespace, {"metadata": {"name": "s"}})
    assert err.value.status == 409 and _status(err.value)["reason"] == "AlreadyExists"
    with pytest.raises(ApiException) as err:
        core.create_namespaced_config_map("nope", {"metadata": {"name": "x"}})
    assert (
        err.value.status == 404 and _status(err.value)["message"] == 'namespaces "nope" not found'
    )


def test_invalid_name_is_422(client, namespace):
    with pytest.raises(ApiException) as err:
        CoreV1Api(client).create_namespaced_config_map(
            namespace, {"metadata": {"name": "Bad_Name"}}
        )
    body = _status(err.value)
    assert err.value.status == 422 and body["reason"] == "Invalid"
    assert body["details"]["causes"][0]["field"] == "metadata.name"


def test_label_and_field_selectors(client, namespace):
    core = CoreV1Api(client)
    for i, tier in enumerate(["web", "web", "db"]):
        core.create_namespaced_config_map(
            namespace, {"metadata": {"name": f"c{i}", "labels": {"tier": tier, "n": str(i)}}}
        )

    def names(**kw):
        return [c.metadata.name for c in core.list_namespaced_config_map(namespace, **kw).items]

    assert names(label_selector="tier=web") == ["c0", "c1"]
    assert names(label_selector="tier!=web") == ["c2"]
    assert names(label_selector="tier in (db),n") == ["c2"]
    assert names(label_selector="!missing,tier notin (db)") == ["c0", "c1"]
    assert names(field_selector="metadata.name=c1") == ["c1"]
    assert names(field_selector="metadata.name!=c1", label_selector="tier=web") == ["c0"]


def test_paging_with_limit_and_continue(client, namespace):
    core = CoreV1Api(client)
    for i in range(7):
        core.create_namespaced_config_map(namespace, {"metadata": {"name": f"p{i}"}})
    seen, token = [], None
    while True:
        page = core.list_namespaced_config_map(namespace, limit=3, _continue=token)
        seen += [c.metadata.name for c in page.items]
        token = page.metadata._continue
        if not token:
            break
        assert page.metadata.remaining_item_count == 7 - len(seen)
    assert seen == [f"p{i}" for i in range(7)]


def test_update_conflict_on_stale_resource_version(client, namespace):
    core = CoreV1Api(client)
    cm = core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "u"}, "data": {"v": "1"}}
    )
    cm.data = {"v": "2"}
    updated = core.replace_namespaced_config_map("u", namespace, cm)
    assert (
        updated.data == {"v": "2"}
        and updated.metadata.resource_version != cm.metadata.resource_version
    )
    cm.data = {"v": "3"}  # still carries the old resourceVersion
    with pytest.raises(ApiException) as err:
        core.replace_namespaced_config_map("u", namespace, cm)
    body = _status(err.value)
    assert err.value.status == 409 and body["reason"] == "Conflict"
    assert "the object has been modified" in body["message"]


def test_patch_types(api, client, namespace):
    core = CoreV1Api(client)
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "pt", "labels": {"a": "1"}}, "data": {"x": "1"}}
    )
    core.patch_namespaced_config_map(
        "pt", namespace, {"data": {"y": "2"}, "metadata": {"labels": {"a": None}}}
    )
    got = core.read_namespaced_config_map("pt", namespace)
    assert got.data == {"x": "1", "y": "2"} and not got.metadata.labels
    core.patch_namespaced_config_map("pt", namespace, [{"op": "remove", "path": "/data/x"}])
    assert core.read_namespaced_config_map("pt", namespace).data == {"y": "2"}
    status, body, _ = raw(
        api,
        "PATCH",
        f"/api/v1/namespaces/{namespace}/configmaps/pt",
        b"data: {}",
        {"Content-Type": "application/apply-patch+yaml"},
    )
    assert status == 415 and body["reason"] == "UnsupportedMediaType"


def test_status_subresource_and_generation(client, namespace):
    ensure_crd(client)
    co = CustomObjectsApi(client)
    args = ("test.kagent.dev", "v1", namespace, "widgets")
    w = co.create_namespaced_custom_object(
        *args,
        {
            "apiVersion": "test.kagent.dev/v1",
            "kind": "Widget",
            "metadata": {"name": "w"},
            "spec": {},
            "status": {"ignored": True},
        },
    )
    assert w["metadata"]["generation"] == 1
    assert w["spec"] == {"size": 1}, "schema default applied"
    assert "status" not in w, "status is dropped on create with a status subresource"
    w = co.patch_namespaced_custom_object_status(
        *args, "w", {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    )
    assert w["metadata"]["generation"] == 1 and w["status"]["conditions"][0]["status"] == "True"
    w = co.patch_namespaced_custom_object(
        *args, "w", {"spec": {"size": 3}, "status": {"conditions": []}}
    )
    assert w["metadata"]["generation"] == 2
    assert w["status"]["conditions"][0]["status"] == "True", "main endpoint ignores status"
    same = co.patch_namespaced_custom_object(*args, "w", {"spec": {"size": 3}})
    assert same["metadata"]["resourceVersion"] == w["metadata"]["resourceVersion"], "no-op write"


def test_custom_resource_validation_is_apiserver_shaped(client, namespace):
    ensure_crd(client)
    co = CustomObjectsApi(client)
    with pytest.raises(ApiException) as err:
        co.create_namespaced_custom_object(
            "test.kagent.dev",
            "v1",
            namespace,
            "widgets",
            {
                "apiVersion": "test.kagent.dev/v1",
                "kind": "Widget",
                "metadata": {"name": "big"},
                "spec": {"size": 11, "color": "green"},
            },
        )
    body = _status(err.value)
    assert err.value.status == 422 and body["reason"] == "Invalid" and body["code"] == 422
    assert body["message"].startswith('Widget.test.kagent.dev "big" is invalid: ')
    assert body["details"]["kind"] == "Widget" and body["details"]["group"] == "test.kagent.dev"
    fields = {c["field"] for c in body["details"]["causes"]}
    assert "spec.color" in fields


def test_finalizers_then_removal(client, namespace):
    core = CoreV1Api(client)
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "f", "finalizers": ["test/hold"]}}
    )
    core.delete_namespaced_config_map("f", namespace)
    held = core.read_namespaced_config_map("f", namespace)
    assert held.metadata.deletion_timestamp is not None
    core.patch_namespaced_config_map("f", namespace, {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException) as err:
        core.read_namespaced_config_map("f", namespace)
    assert err.value.status == 404


def _owned(core: CoreV1Api, namespace: str, owner, name: str, block: bool = False) -> None:
    ref = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": owner.metadata.name,
        "uid": owner.metadata.uid,
        "blockOwnerDeletion": block,
    }
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": name, "ownerReferences": [ref]}}
    )


def _exists(core: CoreV1Api, namespace: str, name: str) -> bool:
    try:
        core.read_namespaced_config_map(name, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


def test_background_cascade(client, namespace):
    core = CoreV1Api(client)
    owner = core.create_namespaced_config_map(namespace, {"metadata": {"name": "owner"}})
    _owned(core, namespace, owner, "child")
    core.delete_namespaced_config_map("owner", namespace)
    wait_for(lambda: not _exists(core, namespace, "child"), what="child collected")


def test_foreground_cascade_waits_for_dependents(client, namespace):
    core = CoreV1Api(client)
    owner = core.create_namespaced_config_map(namespace, {"metadata": {"name": "fg"}})
    core.create_namespaced_config_map(
        namespace,
        {
            "metadata": {
                "name": "fg-child",
                "finalizers": ["test/hold"],
                "ownerReferences": [
                    {
                        "apiVersion": "v1",
                        "kind": "ConfigMap",
                        "name": "fg",
                        "uid": owner.metadata.uid,
                        "blockOwnerDeletion": True,
                    }
                ],
            }
        },
    )
    core.delete_namespaced_config_map("fg", namespace, propagation_policy="Foreground")
    wait_for(
        lambda: core.read_namespaced_config_map("fg-child", namespace).metadata.deletion_timestamp,
        what="child marked",
    )
    held = core.read_namespaced_config_map("fg", namespace)
    assert "foregroundDeletion" in held.metadata.finalizers
    core.patch_namespaced_config_map("fg-child", namespace, {"metadata": {"finalizers": None}})
    wait_for(lambda: not _exists(core, namespace, "fg"), what="owner removed after its dependents")


def test_orphan_keeps_dependents(client, namespace):
    core = CoreV1Api(client)
    owner = core.create_namespaced_config_map(namespace, {"metadata": {"name": "or"}})
    _owned(core, namespace, owner, "or-child")
    core.delete_namespaced_config_map("or", namespace, propagation_policy="Orphan")
    wait_for(lambda: not _exists(core, namespace, "or"), what="owner removed")
    assert not core.read_namespaced_config_map("or-child", namespace).metadata.owner_references


def test_namespace_deletion_removes_content(client):
    core = CoreV1Api(client)
    core.create_namespace({"metadata": {"name": "doomed"}})
    core.create_namespaced_config_map("doomed", {"metadata": {"name": "x"}})
    core.delete_namespace("doomed")
    wait_for(
        lambda: "doomed" not in [n.metadata.name for n in core.list_namespace().items],
        what="namespace gone",
    )
    assert core.list_namespaced_config_map("doomed").items == []


def test_crd_makes_resource_served_and_discoverable(client):
    ensure_crd(client)
    resources = kubernetes.client.CustomObjectsApi(client).get_api_resources(
        "test.kagent.dev", "v1"
    )
    widget = next(r for r in resources.resources if r.name == "widgets")
    assert widget.kind == "Widget" and widget.short_names == ["wd"] and widget.namespaced
    assert any(r.name == "widgets/status" for r in resources.resources)
    crd = kubernetes.client.ApiextensionsV1Api(client).read_custom_resource_definition(
        "widgets.test.kagent.dev"
    )
    assert any(c.type == "Established" and c.status == "True" for c in crd.status.conditions)


def test_unauthenticated_and_token_review(api, client):
    import urllib3

    pool = urllib3.PoolManager(ca_certs=str(api.server.state_dir / "ca.crt"))
    resp = pool.request("GET", f"{api.server.url}/api/v1/namespaces")
    assert resp.status == 401 and json.loads(resp.data)["reason"] == "Unauthorized"
    auth = kubernetes.client.AuthenticationV1Api(client)
    ok = auth.create_token_review({"spec": {"token": api.server.token.reveal()}})
    assert ok.status.authenticated and ok.status.user.username == "admin"
    bad = auth.create_token_review({"spec": {"token": "nope"}})
    assert not bad.status.authenticated
    sar = kubernetes.client.AuthorizationV1Api(client).create_subject_access_review(
        {
            "spec": {
                "user": "someone",
                "resourceAttributes": {
                    "verb": "get",
                    "resource": "secrets",
                    "namespace": "default",
                },
            }
        }
    )
    assert sar.status.allowed is False
