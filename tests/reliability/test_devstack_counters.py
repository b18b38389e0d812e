"""The kube stand-in's request counters (``/devstack/requests``) used by the benchmarks."""

from __future__ import annotations

from kubernetes.client import CoreV1Api

from tests.integration.kubeapi.conftest import fresh_api, raw, sync_client

__all__ = ["fresh_api"]  # the fixture


def test_requests_are_counted_per_user_verb_and_resource_and_reset(fresh_api):
    raw(fresh_api, "DELETE", "/devstack/requests")
    c = sync_client(fresh_api)
    core = CoreV1Api(c)
    core.create_namespaced_config_map("default", {"metadata": {"name": "a"}})
    core.patch_namespaced_config_map("a", "default", {"data": {"x": "1"}})
    core.read_namespaced_config_map("a", "default")
    core.list_namespaced_config_map("default")
    c.close()
    status, body, _ = raw(fresh_api, "GET", "/devstack/requests")
    assert status == 200
    assert body["users"]["admin"] == {
        "create": {"configmaps": 1},
        "patch": {"configmaps": 1},
        "get": {"configmaps": 1},
        "list": {"configmaps": 1},
    }
    raw(fresh_api, "DELETE", "/devstack/requests")
    assert raw(fresh_api, "GET", "/devstack/requests")[1] == {"users": {}}
