"""Fault injection: forced error codes, latency, and a restart that keeps objects."""

from __future__ import annotations

import time

import pytest
from kubernetes.client import ApiException, CoreV1Api

from tests.integration.kubeapi.conftest import raw, sync_client


def test_forced_errors_are_counted_and_kubernetes_shaped(fresh_api):
    c = sync_client(fresh_api)
    core = CoreV1Api(c)
    status, _, _ = raw(
        fresh_api,
        "POST",
        "/devstack/faults",
        {
            "errors": [
                {"verb": "create", "resource": "configmaps", "code": 429, "count": 1},
                {"verb": "create", "resource": "configmaps", "code": 500, "count": 1},
            ]
        },
    )
    assert status == 200
    with pytest.raises(ApiException) as err:
        core.create_namespaced_config_map("default", {"metadata": {"name": "a"}})
    assert err.value.status == 429 and err.value.headers["Retry-After"] == "1"
    with pytest.raises(ApiException) as err:
        core.create_namespaced_config_map("default", {"metadata": {"name": "a"}})
    assert err.value.status == 500
    core.create_namespaced_config_map("default", {"metadata": {"name": "a"}})
    raw(fresh_api, "POST", "/devstack/faults", {"errors": [{"verb": "patch", "code": 409}]})
    with pytest.raises(ApiException) as err:
        core.patch_namespaced_config_map("a", "default", {"data": {"x": "1"}})
    assert err.value.status == 409
    c.close()


def test_latency_per_verb(fresh_api):
    c = sync_client(fresh_api)
    core = CoreV1Api(c)
    raw(fresh_api, "POST", "/devstack/faults", {"latency": {"list": 0.3}})
    start = time.monotonic()
    core.list_namespaced_config_map("default")
    assert time.monotonic() - start >= 0.3
    raw(fresh_api, "DELETE", "/devstack/faults")
    start = time.monotonic()
    core.list_namespaced_config_map("default")
    assert time.monotonic() - start < 0.3
    c.close()


def test_bad_fault_config_is_400(fresh_api):
    status, body, _ = raw(fresh_api, "POST", "/devstack/faults", {"errors": [{"code": 418}]})
    assert status == 400 and body["reason"] == "BadRequest"


def test_restart_keeps_objects_and_old_watches_get_410(fresh_api):
    c = sync_client(fresh_api)
    core = CoreV1Api(c)
    core.create_namespaced_config_map("default", {"metadata": {"name": "kept"}, "data": {"a": "1"}})
    rv_before = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", {"metadata": {"name": "kept2"}})
    fresh_api.call(fresh_api.server.restart())
    c.close()
    c = sync_client(fresh_api)
    core = CoreV1Api(c)
    assert core.read_namespaced_config_map("kept", "default").data == {"a": "1"}
    listed = core.list_namespaced_config_map("default")
    assert int(listed.metadata.resource_version) > int(rv_before)
    status, body, _ = raw(
        fresh_api,
        "GET",
        f"/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={rv_before}&timeoutSeconds=2",
    )
    assert status == 200 and body["type"] == "ERROR" and body["object"]["code"] == 410
    c.close()
