"""RBAC is exactly the API calls the code makes: compared as (apiGroup, resource, verb) sets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.chart.render import FULLNAME, NAMESPACE, find, one

Rendered = Callable[[str], list[dict[str, Any]]]
Grant = tuple[str, str, str]

CONTROLLER_SA = f"{FULLNAME}-controller"
WEBHOOK_SA = f"{FULLNAME}-webhook"


def _grants(rules: list[dict[str, Any]]) -> set[Grant]:
    return {
        (group, resource, verb)
        for rule in rules
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def _expand(group: str, resources: list[str], verbs: str) -> set[Grant]:
    return {(group, r, v) for r in resources for v in verbs.split()}


# What the controller calls (controller/, shared/kube): every verb listed, nothing more.
NAMESPACED: set[Grant] = (
    _expand("kagent.dev", ["agentharnesses", "sandboxagents"], "get list watch patch")
    | _expand("kagent.dev", ["agentharnesses/status", "sandboxagents/status"], "patch")
    | _expand("kagent.dev", ["agentharnesses/finalizers", "sandboxagents/finalizers"], "update")
    | _expand("ate.dev", ["actortemplates"], "get list watch create update delete")
    | _expand("ate.dev", ["workerpools"], "get list watch")
    | _expand("kagent.dev", ["modelconfigs"], "get list watch")
    | _expand("", ["secrets"], "get list watch create update")
    | _expand("", ["configmaps"], "get list watch")
    | _expand("events.k8s.io", ["events"], "create patch")
)
CLUSTER_ONLY: set[Grant] = _expand("authentication.k8s.io", ["tokenreviews"], "create") | _expand(
    "authorization.k8s.io", ["subjectaccessreviews"], "create"
)
LEADER: set[Grant] = _expand("coordination.k8s.io", ["leases"], "get create update")
CONTROLLER_EXPECTED = NAMESPACED | CLUSTER_ONLY | LEADER


def _bound_roles(
    objs: list[dict[str, Any]], sa: str, sa_ns: str = NAMESPACE
) -> list[dict[str, Any]]:
    """(Cluster)Roles bound to ServiceAccount ``sa``, each with the binding's namespace."""
    roles = []
    for binding in find(objs, "RoleBinding") + find(objs, "ClusterRoleBinding"):
        subjects = binding["subjects"]
        if {"kind": "ServiceAccount", "name": sa, "namespace": sa_ns} not in subjects:
            continue
        ref = binding["roleRef"]
        assert ref["apiGroup"] == "rbac.authorization.k8s.io"
        ns = binding["metadata"].get("namespace")
        if ref["kind"] == "Role":
            role = [r for r in find(objs, "Role", ref["name"]) if r["metadata"]["namespace"] == ns]
        else:
            role = find(objs, "ClusterRole", ref["name"])
        assert len(role) == 1, f"{binding['metadata']['name']} refers to a missing {ref}"
        roles.append({**role[0], "scope": ns or "*"})
    return roles


def _grants_by_scope(roles: list[dict[str, Any]]) -> dict[str, set[Grant]]:
    out: dict[str, set[Grant]] = {}
    for role in roles:
        out.setdefault(role["scope"], set()).update(_grants(role["rules"]))
    return out


def test_controller_cluster_wide_is_exactly_what_the_code_calls(rendered: Rendered) -> None:
    scopes = _grants_by_scope(_bound_roles(rendered("default"), CONTROLLER_SA))
    assert scopes == {"*": NAMESPACED | CLUSTER_ONLY, NAMESPACE: LEADER}
    assert set().union(*scopes.values()) == CONTROLLER_EXPECTED


def test_lease_get_update_limited_to_our_lease(rendered: Rendered) -> None:
    for name, lease in (("default", f"{FULLNAME}-controller"), ("ate-api-options", "my-lease")):
        role = one(rendered(name), "Role", f"{FULLNAME}-controller-leader")
        named = [r for r in role["rules"] if "resourceNames" in r]
        assert named == [
            {
                "apiGroups": ["coordination.k8s.io"],
                "resources": ["leases"],
                "resourceNames": [lease],
                "verbs": ["get", "update"],
            }
        ]
        unnamed = [r for r in role["rules"] if "resourceNames" not in r]
        assert _grants(unnamed) == {("coordination.k8s.io", "leases", "create")}


def test_controller_namespaced_has_a_role_per_namespace(rendered: Rendered) -> None:
    objs = rendered("rbac-namespaces")
    scopes = _grants_by_scope(_bound_roles(objs, CONTROLLER_SA))
    assert scopes == {
        "team-a": NAMESPACED,
        "team-b": NAMESPACED,
        "*": CLUSTER_ONLY,
        NAMESPACE: LEADER,
    }
    assert set().union(*scopes.values()) == CONTROLLER_EXPECTED
    assert not find(objs, "ClusterRole", f"{FULLNAME}-controller")


def test_namespaced_controller_can_read_the_default_pool_elsewhere(rendered: Rendered) -> None:
    """§9.23: namespaced mode without the release namespace could not read the default pool."""
    scopes = _grants_by_scope(_bound_roles(rendered("worker-pool-namespaced"), CONTROLLER_SA))
    assert scopes[NAMESPACE] == LEADER | _expand("ate.dev", ["workerpools"], "get list watch")
    assert scopes["team-a"] == NAMESPACED


def test_webhook_rbac_self_signed_patches_only_our_configurations(rendered: Rendered) -> None:
    objs = rendered("default")
    roles = _bound_roles(objs, WEBHOOK_SA)
    assert len(roles) == 1
    (rule,) = roles[0]["rules"]
    assert rule == {
        "apiGroups": ["admissionregistration.k8s.io"],
        "resources": ["validatingwebhookconfigurations", "mutatingwebhookconfigurations"],
        "resourceNames": [FULLNAME],
        "verbs": ["get", "patch"],
    }
    assert one(objs, "ValidatingWebhookConfiguration")["metadata"]["name"] == FULLNAME
    assert one(objs, "MutatingWebhookConfiguration")["metadata"]["name"] == FULLNAME


def test_webhook_has_no_rbac_and_no_token_with_cert_manager(rendered: Rendered) -> None:
    objs = rendered("cert-manager")
    assert _bound_roles(objs, WEBHOOK_SA) == []
    dep = one(objs, "Deployment", f"{FULLNAME}-webhook")
    assert dep["spec"]["template"]["spec"]["automountServiceAccountToken"] is False


ATE_API_GET_SECRETS = {("", "secrets", "get")}


def test_ate_api_reads_secrets_cluster_wide_when_controller_watches_all(rendered: Rendered) -> None:
    """§9.23: agents in any namespace need their env Secrets resolvable by ate-api."""
    scopes = _grants_by_scope(_bound_roles(rendered("default"), "ate-api-server", "ate-system"))
    assert scopes == {"*": ATE_API_GET_SECRETS}


def test_ate_api_reads_secrets_in_every_watched_namespace(rendered: Rendered) -> None:
    objs = rendered("rbac-namespaces")
    scopes = _grants_by_scope(_bound_roles(objs, "ate-api-server", "ate-system"))
    assert scopes == {"team-a": ATE_API_GET_SECRETS, "team-b": ATE_API_GET_SECRETS}
    for role in find(objs, "Role", f"{FULLNAME}-ate-api-env-sources"):
        assert "resourceNames" not in role["rules"][0]


def test_ate_api_subject_is_configurable(rendered: Rendered) -> None:
    scopes = _grants_by_scope(_bound_roles(rendered("ate-api-options"), "custom-api", "custom-ate"))
    assert scopes == {"*": ATE_API_GET_SECRETS}


def test_no_wildcards_anywhere(rendered: Rendered) -> None:
    for name in ("default", "rbac-namespaces", "worker-pool-namespaced", "cert-manager"):
        for role in find(rendered(name), "Role") + find(rendered(name), "ClusterRole"):
            for rule in role["rules"]:
                for field in ("apiGroups", "resources", "verbs"):
                    assert "*" not in rule[field], (name, role["metadata"]["name"], rule)
