"""`helm lint --strict` and `helm template` over every value set; per-object structural checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.chart.render import (
    CHART,
    FULLNAME,
    NAMESPACE,
    VALUE_SETS,
    container,
    find,
    helm,
    one,
    render,
)

Rendered = Callable[[str], list[dict[str, Any]]]
NAMES = sorted(VALUE_SETS)
WORKLOADS = ("webhook", "controller")


def _labels_match(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def _pod_labels(objs: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [d["spec"]["template"]["metadata"]["labels"] for d in find(objs, "Deployment")]


@pytest.mark.parametrize("name", NAMES)
def test_lint_strict(name: str) -> None:
    run = helm("lint", "--strict", str(CHART), "--namespace", NAMESPACE, values=VALUE_SETS[name])
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 chart(s) failed" in run.stdout


@pytest.mark.parametrize("name", NAMES)
def test_every_object_is_well_formed(name: str, rendered: Rendered) -> None:
    objs = rendered(name)
    kinds = {o["kind"] for o in objs}
    assert {"Deployment", "Service", "ServiceAccount"} <= kinds
    assert {"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"} <= kinds
    for o in objs:
        meta = o["metadata"]
        assert o["apiVersion"] and meta["name"], o
        assert len(meta["name"]) <= 63, meta["name"]
        assert meta["labels"]["app.kubernetes.io/instance"] == "ks"
        assert meta["labels"]["app.kubernetes.io/managed-by"] == "Helm"
        cluster_scoped = o["kind"].startswith("Cluster") or o["kind"].endswith(
            "WebhookConfiguration"
        )
        assert ("namespace" in meta) != cluster_scoped, (o["kind"], meta)


@pytest.mark.parametrize("name", NAMES)
def test_selectors_match_pod_labels(name: str, rendered: Rendered) -> None:
    objs = rendered(name)
    pods = _pod_labels(objs)
    for dep in find(objs, "Deployment"):
        sel = dep["spec"]["selector"]["matchLabels"]
        assert _labels_match(sel, dep["spec"]["template"]["metadata"]["labels"])
    for svc in find(objs, "Service"):
        matched = [p for p in pods if _labels_match(svc["spec"]["selector"], p)]
        assert len(matched) == 1, svc["metadata"]["name"]
    for pdb in find(objs, "PodDisruptionBudget"):
        assert [p for p in pods if _labels_match(pdb["spec"]["selector"]["matchLabels"], p)]
    for np in find(objs, "NetworkPolicy"):
        assert [p for p in pods if _labels_match(np["spec"]["podSelector"]["matchLabels"], p)]
    services = [s["metadata"]["labels"] for s in find(objs, "Service")]
    for sm in find(objs, "ServiceMonitor"):
        assert [s for s in services if _labels_match(sm["spec"]["selector"]["matchLabels"], s)]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("component", WORKLOADS)
def test_security_context_probes_resources(name: str, component: str, rendered: Rendered) -> None:
    objs = rendered(name)
    pod = one(objs, "Deployment", f"{FULLNAME}-{component}")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    c = container(objs, component)
    sc = c["securityContext"]
    assert sc["runAsNonRoot"] is True
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert c["resources"]["requests"] and c["resources"]["limits"]["memory"]
    port_names = {p["name"] for p in c["ports"]}
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert c[probe]["httpGet"]["port"] in port_names
    assert {"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"]
    assert c["command"] == ["kagent-substrate"] and c["args"][0] == component


def test_image_digest_wins_over_tag(rendered: Rendered) -> None:
    digest = VALUE_SETS["digest-image"]["image"]["digest"]
    for component in WORKLOADS:
        assert container(rendered("digest-image"), component)["image"] == (
            f"registry.example/ks@{digest}"
        )
        assert container(rendered("default"), component)["image"] == (
            "ghcr.io/kagent-dev/kagent-substrate:0.1.0"
        )


def test_long_release_name_keeps_names_within_63() -> None:
    release = "r" * 53  # Helm's longest release name
    objs = render({"controller": {"gateway": {"enabled": True}}}, release=release)
    objs += render(
        {"rbac": {"namespaces": ["a"]}, "workerPool": {"create": True, "ateomImage": "x"}},
        release=release,
    )
    for o in objs:
        assert len(o["metadata"]["name"]) <= 63, o["metadata"]["name"]


def test_pdbs_only_for_more_than_one_replica(rendered: Rendered) -> None:
    assert not find(rendered("default"), "PodDisruptionBudget")
    pdbs = find(rendered("replicas-pdb"), "PodDisruptionBudget")
    assert sorted(p["metadata"]["name"] for p in pdbs) == [
        f"{FULLNAME}-controller",
        f"{FULLNAME}-webhook",
    ]
    assert all(p["spec"]["minAvailable"] == 1 for p in pdbs)
    deps = {
        d["metadata"]["name"]: d["spec"]["replicas"]
        for d in find(rendered("replicas-pdb"), "Deployment")
    }
    assert deps == {f"{FULLNAME}-webhook": 3, f"{FULLNAME}-controller": 2}


def test_gateway_service_network_policy_service_monitor(rendered: Rendered) -> None:
    assert not find(rendered("default"), "NetworkPolicy")
    assert not find(rendered("default"), "ServiceMonitor")
    assert not find(rendered("default"), "Service", f"{FULLNAME}-gateway")
    objs = rendered("gateway-netpol-monitor")
    gw = one(objs, "Service", f"{FULLNAME}-gateway")
    assert gw["spec"]["type"] == "LoadBalancer"
    assert gw["spec"]["ports"] == [
        {"name": "gateway", "port": 8083, "targetPort": "gateway", "protocol": "TCP"}
    ]
    assert "--gateway-bind=:8083" in container(objs, "controller")["args"]
    assert "--gateway-bind=" in container(rendered("default"), "controller")["args"]
    nps = {n["metadata"]["name"]: n for n in find(objs, "NetworkPolicy")}
    ctrl = nps[f"{FULLNAME}-controller"]["spec"]
    assert ctrl["policyTypes"] == ["Ingress"]
    ports = [rule["ports"][0]["port"] for rule in ctrl["ingress"]]
    assert ports == ["metrics", "gateway"]
    assert ctrl["ingress"][0]["from"] == [
        {"namespaceSelector": {"matchLabels": {"name": "monitoring"}}}
    ]
    wh = nps[f"{FULLNAME}-webhook"]["spec"]
    assert [rule["ports"][0]["port"] for rule in wh["ingress"]] == ["https", "metrics"]
    sms = find(objs, "ServiceMonitor")
    assert len(sms) == 2
    for sm in sms:
        assert sm["metadata"]["labels"]["release"] == "prom"
        assert sm["spec"]["endpoints"][0]["port"] == "metrics"


def test_worker_pool(rendered: Rendered) -> None:
    assert not find(rendered("default"), "WorkerPool")
    pool = one(rendered("worker-pool"), "WorkerPool")
    assert pool["apiVersion"] == "ate.dev/v1alpha1"
    assert pool["metadata"] == {
        "name": "pool-1",
        "namespace": NAMESPACE,
        "labels": pool["metadata"]["labels"],
    }
    assert pool["spec"] == {"replicas": 3, "ateomImage": "ateom:1"}
    objs = rendered("worker-pool")
    assert "--substrate-default-workerpool-name=pool-1" in container(objs, "controller")["args"]
    assert (
        f"--substrate-default-workerpool-namespace={NAMESPACE}"
        in container(objs, "controller")["args"]
    )
    assert "--default-worker-pool=kagent-system/pool-1" in container(objs, "webhook")["args"]
    assert not [a for a in container(rendered("default"), "webhook")["args"] if "worker-pool" in a]


def test_crds_configmap_is_the_chart_crds(rendered: Rendered) -> None:
    objs = rendered("default")
    cm = one(objs, "ConfigMap", f"{FULLNAME}-crds")
    files = sorted((CHART / "crds").glob("*.yaml"))
    assert sorted(cm["data"]) == [f.name for f in files]
    for f in files:
        assert cm["data"][f.name] == f.read_text().rstrip("\n")
    c = container(objs, "webhook")
    assert "--crds=/etc/kagent-substrate/crds" in c["args"]
    assert {"name": "crds", "mountPath": "/etc/kagent-substrate/crds", "readOnly": True} in c[
        "volumeMounts"
    ]
    dep = one(objs, "Deployment", f"{FULLNAME}-webhook")
    assert "checksum/crds" in dep["spec"]["template"]["metadata"]["annotations"]
    image_mode = rendered("digest-image")
    assert not find(image_mode, "ConfigMap")
    assert "--crds=/opt/kagent-substrate/crds" in container(image_mode, "webhook")["args"]


def test_crds_are_not_templated() -> None:
    """crds/ is Helm's CRD folder: `helm template` prints CRDs only with --include-crds."""
    objs = render()
    assert not find(objs, "CustomResourceDefinition")
