"""End to end: the chart's rendered manifests (the kinds the devstack serves) on the devstack
Kubernetes API, and the webhook
started as a real process with the rendered args (only what a pod gets from its cluster is
swapped: free local ports, local folders for its emptyDir and ConfigMap mounts, a kubeconfig
instead of the in-cluster ServiceAccount, 127.0.0.1 as an extra certificate host). The webhook
patches caBundle into the rendered configurations, and kubectl then goes through them.

Not covered yet: the controller process (its runtime is being written), so no AgentHarness
reaches Ready here.
"""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from devstack.stack import Proc
from devstack.stack import start as start_process
from tests.chart.render import FULLNAME, NAMESPACE, REPO, container, one, render

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent
# The kinds of the chart the devstack API serves (it has no apps/v1, Services or RBAC; those are
# checked structurally by the other chart tests).
DEVSTACK_KINDS = {
    "ServiceAccount",
    "ConfigMap",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "WorkerPool",
}
VALUES = {"workerPool": {"create": True, "name": "pool-1", "ateomImage": "ateom:1"}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(args: list[str], log: Path, ready: str = "READY ") -> subprocess.Popen[str]:
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=log.open("a"), text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith(ready):
            return proc
        if proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"{args[:3]} printed no READY line; log:\n{log.read_text()}")


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


class Cluster:
    """kubectl against the devstack API server."""

    def __init__(self, tmp: Path) -> None:
        self.env = {**os.environ, "KUBECONFIG": str(tmp / "kc"), "KUBECACHEDIR": str(tmp / "c")}

    def kubectl(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "kubectl"), *args],
            input=stdin,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def ok(self, *args: str, stdin: str | None = None) -> str:
        p = self.kubectl(*args, stdin=stdin)
        assert p.returncode == 0, p.stderr
        return p.stdout

    def get(self, *args: str) -> dict[str, Any]:
        return dict(yaml.safe_load(self.ok("get", *args, "-o", "yaml")))


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[Cluster, int]]:
    """A devstack API server that calls the chart's webhook Service at a local port."""
    webhook_port = _free_port()
    service = f"{NAMESPACE}/{FULLNAME}-webhook=127.0.0.1:{webhook_port}"
    proc = _start(
        [
            str(BIN / "kagent-substrate"),
            "devstack",
            "kube",
            "--kubeconfig",
            str(tmp_path / "kc"),
            "--webhook-service",
            service,
        ],
        tmp_path / "kube.log",
    )
    try:
        yield Cluster(tmp_path), webhook_port
    finally:
        _stop(proc)


def _webhook_args(objs: list[dict[str, Any]], tmp: Path, port: int) -> list[str]:
    """The rendered webhook args, with pod-only paths and ports mapped to this machine."""
    c = container(objs, "webhook")
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    crds = tmp / "crds"  # the ConfigMap volume, as the kubelet would write it
    crds.mkdir()
    for key, text in one(objs, "ConfigMap", f"{FULLNAME}-crds")["data"].items():
        (crds / key).write_text(text)
    local = {mounts["crds"]: str(crds), mounts["certs"]: str(tmp / "certs")}
    out = []
    for arg in c["args"]:
        flag, _, value = arg.partition("=")
        if flag == "--port":
            value = str(port)
        elif flag == "--metrics-port":
            value = str(_free_port())
        elif flag == "--bind-address":
            value = "127.0.0.1"
        elif value in local:
            value = local[value]
        out.append(f"{flag}={value}" if value or "=" in arg else flag)
    assert c["command"] == ["kagent-substrate"]
    return [
        str(BIN / "kagent-substrate"),
        *out,
        f"--kubeconfig={tmp / 'kc'}",
        "--extra-host=127.0.0.1",
    ]


def test_rendered_chart_on_devstack_with_the_webhook_process(
    cluster: tuple[Cluster, int], tmp_path: Path
) -> None:
    kube, port = cluster
    objs = render(VALUES)
    crd_dirs = [REPO / "charts/kagent-substrate/crds", REPO / "devstack/crds"]
    kube.ok("apply", *[a for d in crd_dirs for a in ("-f", str(d))])
    kube.ok("wait", "--for=condition=Established", "crd/agentharnesses.kagent.dev", "--timeout=20s")
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
    kube.ok("apply", "-f", "-", stdin=yaml.safe_dump(namespace))
    served = [o for o in objs if o["kind"] in DEVSTACK_KINDS]
    assert {o["kind"] for o in served} == DEVSTACK_KINDS
    applied = kube.kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(served))
    assert applied.returncode == 0, applied.stderr
    assert len(applied.stdout.splitlines()) == len(served)

    args = _webhook_args(objs, tmp_path, port)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAGENT_SUBSTRATE_WEBHOOK_")}
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=(tmp_path / "wh.log").open("a"), text=True, env=env
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("READY "), (tmp_path / "wh.log").read_text()
        deadline = time.monotonic() + 20
        while True:
            hooks = [
                kube.get(kind, FULLNAME)["webhooks"][0]["clientConfig"].get("caBundle")
                for kind in ("validatingwebhookconfiguration", "mutatingwebhookconfiguration")
            ]
            if all(hooks):
                break
            assert time.monotonic() < deadline, (
                f"caBundle not patched: {(tmp_path / 'wh.log').read_text()}"
            )
            time.sleep(0.2)
        assert "BEGIN CERTIFICATE" in base64.b64decode(hooks[0]).decode()

        harness = (REPO / "examples/agentharness-openclaw-minimal.yaml").read_text()
        kube.ok("apply", "-n", "default", "-f", "-", stdin=harness)
        spec = kube.get("agentharness", "claw", "-n", "default")["spec"]["substrate"]
        assert spec["snapshotsConfig"]["location"] == "gs://ate-snapshots/default/claw"
        # The chart's default pool lives in the release namespace: a harness elsewhere is not
        # pinned to it (workerPoolRef is namespace-local); the controller's default applies.
        assert "workerPoolRef" not in spec

        bad = (
            REPO / "examples/invalid/agentharness-configmap-credential-on-substrate.yaml"
        ).read_text()
        denied = kube.kubectl("apply", "-n", "default", "-f", "-", stdin=bad)
        assert denied.returncode != 0
        assert "only inject Secret references" in denied.stderr
        # Both verdicts came from the webhook process (W1 is a webhook-only rule).
        metrics_port = next(a for a in args if a.startswith("--metrics-port=")).split("=")[1]
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
            metrics = r.read().decode()
        counted = [
            line
            for line in metrics.splitlines()
            if line.startswith("kagent_substrate_admission_requests_total{")
            and 'kind="AgentHarness"' in line
        ]
        assert any('allowed="false"' in line for line in counted), counted
        assert any('allowed="true"' in line for line in counted), counted

        # The controller with the rendered args (pod-only endpoints mapped to local stand-ins)
        # makes the harness Ready.
        sim, ctrl = _start_substrate_and_controller(objs, tmp_path)
        try:
            deadline = time.monotonic() + 60
            while True:
                obj = kube.get("agentharness", "claw", "-n", "default")
                conds = {c["type"]: c for c in (obj.get("status") or {}).get("conditions", [])}
                if conds.get("Ready", {}).get("status") == "True":
                    break
                assert time.monotonic() < deadline, f"not Ready: {conds}; see {tmp_path}"
                time.sleep(0.25)
            assert obj["status"]["backendRef"]["id"] == "ahr-default-claw"
        finally:
            ctrl.stop()
            sim.stop()
    finally:
        _stop(proc)


def _start_substrate_and_controller(objs: list[dict[str, Any]], tmp: Path) -> tuple[Proc, Proc]:
    """Start the Substrate simulator, then the controller with the chart's rendered args
    (only what a pod gets from its cluster is mapped: endpoint, CA, token file, binds)."""
    token = tmp / "ate-api-token"
    token.write_text("projected-sa-token\n")
    ca = tmp / "substrate-ca.pem"
    sim = start_process(
        "substrate",
        [
            str(BIN / "kagent-substrate"),
            "devstack",
            "substrate",
            f"--kubeconfig={tmp / 'kc'}",
            f"--ca-out={ca}",
            f"--require-token-file={token}",
            "--golden-warmup=0.2",
        ],
        tmp,
    )
    c = container(objs, "controller")
    assert c["command"] == ["kagent-substrate"]
    mapped = {
        "--substrate-ate-api-endpoint": sim.ready["grpc"],
        "--substrate-ate-api-token-file": str(token),
        "--metrics-bind": "127.0.0.1:0",
        "--health-bind": "127.0.0.1:0",
    }
    args = [
        f"{f}={mapped.get(f, v)}" if sep else f
        for f, sep, v in (a.partition("=") for a in c["args"])
    ]
    env = {k: "" for k in os.environ if k.startswith("SUBSTRATE_")}
    ctrl = start_process(
        "controller",
        [
            str(BIN / "kagent-substrate"),
            *args,
            f"--kubeconfig={tmp / 'kc'}",
            f"--substrate-ate-api-ca-file={ca}",
            f"--substrate-atenet-router-url={sim.ready['router']}",
            "--not-ready-requeue=1s",
        ],
        tmp,
        env=env,
    )
    return sim, ctrl
