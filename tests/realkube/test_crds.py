"""(a) The real kube-apiserver accepts our two CRDs as they ship: structural schema, CEL
compilation and cost estimation at creation, no warnings; kubectl explain reads them."""

from __future__ import annotations

import subprocess

import yaml

from devstack.realkube.plane import ControlPlane
from tests.realkube.conftest import CHART_CRDS, kubectl_as

OURS = ("agentharnesses.kagent.dev", "sandboxagents.kagent.dev")


def test_crds_are_accepted_without_warnings(
    plane: ControlPlane, crds: subprocess.CompletedProcess[str]
) -> None:
    assert "Warning" not in crds.stderr, crds.stderr
    for name in OURS:
        crd = yaml.safe_load(kubectl_as(plane, "get", "crd", name, "-o", "yaml").stdout)
        conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
        assert conditions.get("Established") == "True", conditions
        assert conditions.get("NamesAccepted") == "True", conditions
        assert conditions.get("NonStructuralSchema") is None, conditions
    # The files are applied as they are: what the apiserver stores is what ships.
    shipped = {p.name for p in CHART_CRDS.glob("*.yaml")}
    assert {f"kagent.dev_{n.split('.')[0]}.yaml" for n in OURS} <= shipped


def test_server_side_apply_again_is_a_no_op(
    plane: ControlPlane, crds: subprocess.CompletedProcess[str]
) -> None:
    out = kubectl_as(plane, "apply", "--server-side", "--force-conflicts", "-f", str(CHART_CRDS))
    assert "Warning" not in out.stderr, out.stderr


def test_kubectl_explain(plane: ControlPlane, crds: subprocess.CompletedProcess[str]) -> None:
    out = kubectl_as(plane, "explain", "agentharness.spec").stdout
    assert "runtime" in out and "backend" in out and "substrate" in out, out
    out = kubectl_as(plane, "explain", "sandboxagents.spec.substrate").stdout
    assert "FIELDS" in out or "FIELD" in out, out
