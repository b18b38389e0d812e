"""Webhook configurations: only our kinds, safe defaults, and certificates wired both ways."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import celpy
import pytest

from tests.chart.render import FULLNAME, NAMESPACE, container, find, one

Rendered = Callable[[str], list[dict[str, Any]]]
KINDS = ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")
RULES = [
    {
        "apiGroups": ["kagent.dev"],
        "apiVersions": ["v1alpha2"],
        "operations": ["CREATE", "UPDATE"],
        "resources": ["agentharnesses", "sandboxagents"],
        "scope": "Namespaced",
    }
]


def _hooks(objs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {kind: one(objs, kind)["webhooks"][0] for kind in KINDS}


@pytest.mark.parametrize("name", ["default", "cert-manager", "rbac-namespaces"])
def test_defaults_rules_and_client_config(name: str, rendered: Rendered) -> None:
    objs = rendered(name)
    svc = one(objs, "Service", f"{FULLNAME}-webhook")
    assert {"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"} in svc["spec"][
        "ports"
    ]
    for kind, hook in _hooks(objs).items():
        assert len(one(objs, kind)["webhooks"]) == 1
        assert hook["failurePolicy"] == "Fail"
        assert hook["sideEffects"] == "None"
        assert hook["timeoutSeconds"] == 10
        assert hook["admissionReviewVersions"] == ["v1"]
        assert hook["rules"] == RULES
        assert hook["matchPolicy"] == "Equivalent"
        path = "/validate" if kind.startswith("Validating") else "/mutate"
        assert hook["clientConfig"] == {
            "service": {
                "name": svc["metadata"]["name"],
                "namespace": NAMESPACE,
                "path": path,
                "port": 443,
            }
        }
        assert hook["namespaceSelector"] == {
            "matchExpressions": [
                {
                    "key": "kubernetes.io/metadata.name",
                    "operator": "NotIn",
                    "values": [NAMESPACE, "kube-system"],
                }
            ]
        }
    assert _hooks(objs)["MutatingWebhookConfiguration"]["reinvocationPolicy"] == "Never"
    # The webhook answers before the API server gives up.
    args = container(objs, "webhook")["args"]
    assert "--request-timeout=8" in args


def test_failure_policy_and_excluded_namespaces_are_values(rendered: Rendered) -> None:
    for hook in _hooks(rendered("self-signed-json-logs")).values():
        assert hook["failurePolicy"] == "Ignore"
    for hook in _hooks(rendered("no-match-conditions-excludes")).values():
        assert "matchConditions" not in hook
        values = hook["namespaceSelector"]["matchExpressions"][0]["values"]
        assert values == ["infra", NAMESPACE, "kube-system"]


def _cel(expression: str, request: dict[str, Any]) -> bool:
    env = celpy.Environment()
    program = env.program(env.compile(expression))
    return bool(program.evaluate({"request": celpy.json_to_cel(request)}))


@pytest.mark.parametrize(
    ("kind", "group", "user", "sent"),
    [
        ("AgentHarness", "kagent.dev", "alice", True),
        ("SandboxAgent", "kagent.dev", "system:serviceaccount:ci:deployer", True),
        ("Agent", "kagent.dev", "alice", False),
        ("AgentHarness", "other.dev", "alice", False),
        (
            "AgentHarness",
            "kagent.dev",
            f"system:serviceaccount:{NAMESPACE}:{FULLNAME}-controller",
            False,
        ),
    ],
)
def test_match_conditions(kind: str, group: str, user: str, sent: bool, rendered: Rendered) -> None:
    """Evaluated with a CEL engine: only our kinds, and never the controller's own writes."""
    request = {
        "kind": {"group": group, "version": "v1alpha2", "kind": kind},
        "userInfo": {"username": user},
    }
    for hook in _hooks(rendered("default")).values():
        conditions = hook["matchConditions"]
        assert [c["name"] for c in conditions] == [
            "only-agentharness-and-sandboxagent",
            "not-the-controller",
        ]
        assert all(_cel(c["expression"], request) for c in conditions) is sent


def test_self_signed_wiring(rendered: Rendered) -> None:
    objs = rendered("default")
    assert not find(objs, "Certificate") and not find(objs, "Issuer")
    for kind in KINDS:
        assert "annotations" not in one(objs, kind)["metadata"]
    c = container(objs, "webhook")
    args = c["args"]
    assert "--self-signed" in args
    assert f"--service-name={FULLNAME}-webhook" in args
    assert f"--service-namespace={NAMESPACE}" in args
    assert f"--validating-webhook-configuration={FULLNAME}" in args
    assert f"--mutating-webhook-configuration={FULLNAME}" in args
    assert not [a for a in args if a.startswith("--tls-")]
    assert {"name": "certs", "mountPath": "/var/run/kagent-substrate/certs"} in c["volumeMounts"]
    pod = one(objs, "Deployment", f"{FULLNAME}-webhook")["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is True  # it patches caBundle


@pytest.mark.parametrize("name", ["cert-manager", "cert-manager-cluster-issuer"])
def test_cert_manager_wiring(name: str, rendered: Rendered) -> None:
    objs = rendered(name)
    cert = one(objs, "Certificate", f"{FULLNAME}-webhook-tls")
    assert cert["apiVersion"] == "cert-manager.io/v1"
    for kind in KINDS:
        ann = one(objs, kind)["metadata"]["annotations"]
        assert ann == {"cert-manager.io/inject-ca-from": f"{NAMESPACE}/{FULLNAME}-webhook-tls"}
    svc = f"{FULLNAME}-webhook"
    assert cert["spec"]["dnsNames"] == [
        f"{svc}.{NAMESPACE}.svc",
        f"{svc}.{NAMESPACE}.svc.cluster.local",
    ]
    assert "server auth" in cert["spec"]["usages"]
    pod = one(objs, "Deployment", svc)["spec"]["template"]["spec"]
    (tls,) = [v for v in pod["volumes"] if v["name"] == "tls"]
    assert tls["secret"]["secretName"] == cert["spec"]["secretName"]
    c = container(objs, "webhook")
    assert {"name": "tls", "mountPath": "/var/run/kagent-substrate/tls", "readOnly": True} in c[
        "volumeMounts"
    ]
    assert "--tls-cert-file=/var/run/kagent-substrate/tls/tls.crt" in c["args"]
    assert "--tls-private-key-file=/var/run/kagent-substrate/tls/tls.key" in c["args"]
    assert "--self-signed" not in c["args"]
    issuer = cert["spec"]["issuerRef"]
    if name == "cert-manager":
        created = one(objs, "Issuer", f"{FULLNAME}-selfsigned")
        assert created["spec"] == {"selfSigned": {}}
        assert issuer == {
            "name": f"{FULLNAME}-selfsigned",
            "kind": "Issuer",
            "group": "cert-manager.io",
        }
    else:
        assert not find(objs, "Issuer")
        assert issuer == {"name": "corp-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"}
