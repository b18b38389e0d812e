"""(d) `export-vap` for real: on a control plane running the *upstream* kagent CRDs (which lack
our rules; the case export-vap is for), the exported ValidatingAdmissionPolicies and bindings
deny exactly the corpus objects whose exported rules fail in our engine, with those rules'
messages. Cases the upstream schema already refuses never reach a policy and are counted apart.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from devstack.realkube.plane import ControlPlane
from devstack.stack import kubectl
from shared.policy.engine import PolicyEngine
from tests.realkube.api import Api
from tests.realkube.conftest import TEST_CRDS
from tests.realkube.hooks import wait_until
from tests.realkube.parity import CASES, load, server_verdict
from tests.realkube.require import bin_dir_or_skip
from webhook import vap

# kagent's own CRDs at the seed's commit (copied from the reference kept beside the product).
REFERENCE = Path(__file__).resolve().parent / "upstream_crds"
NAMESPACE = "team-a"


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ControlPlane, Api]]:
    """A second control plane (no KCM) with the upstream CRDs and the exported policies."""
    cp = ControlPlane(tmp_path_factory.mktemp("realkube-vap"), bin_dir_or_skip(), with_kcm=False)
    cp.up()
    try:
        config = cp.kubeconfig_path()
        kubectl(config, "apply", "--server-side", "-f", str(REFERENCE), "-f", str(TEST_CRDS))
        wait_until("CRDs Established", lambda: all_established(config, 5))
        kubectl(config, "create", "namespace", NAMESPACE)
        yield cp, Api(cp.url, cp.admin_token, str(cp.ca_file))
    finally:
        cp.down()


def all_established(config: Path, count: int) -> bool:
    """At least ``count`` CRDs, each with condition Established=True (the status may lag)."""
    items = json.loads(kubectl(config, "get", "crd", "-o", "json").stdout)["items"]
    return len(items) >= count and all(
        any(
            c.get("type") == "Established" and c.get("status") == "True"
            for c in (i.get("status") or {}).get("conditions") or []
        )
        for i in items
    )


def test_exported_policies_give_the_engine_verdict(
    upstream: tuple[ControlPlane, Api], tmp_path: Path
) -> None:
    cp, api = upstream
    engine = PolicyEngine.from_dir()
    upstream_engine = PolicyEngine.from_dir(REFERENCE)
    policies = vap.export_policies()
    exported = {(e.kind, e.rule_id): e.validation for e in policies.exported}
    # Before the policies: what the upstream CRDs alone say (objects they refuse are set apart).
    before = {c.id: server_verdict(api, *load(c), NAMESPACE)[0] for c in CASES}
    out = tmp_path / "vap.yaml"
    assert vap.main(["-o", str(out)]) == 0
    proc = kubectl(cp.kubeconfig_path(), "apply", "-f", str(out))
    assert "Warning" not in proc.stderr, proc.stderr

    def expected(case_id: str) -> set[str]:
        case = next(c for c in CASES if c.id == case_id)
        obj, old = load(case)
        # The policies see the object as the upstream schema defaulted it (e.g. upstream's
        # spec.declarative.runtime default "python", which our CRD drops: C7).
        for item in (obj, old):
            if item is not None:
                found = upstream_engine.validator_for(item["apiVersion"], item["kind"])
                assert found is not None
                found.default(item["apiVersion"].split("/")[1], item)
        verdict = engine.admit(obj, old=old, operation="UPDATE" if old else "CREATE", webhook=False)
        return {
            exported[(obj["kind"], v.rule)]["message"]
            for v in verdict.violations
            if (obj["kind"], v.rule) in exported
        }

    probe = next(c for c in CASES if before[c.id].allowed and expected(c.id))
    wait_until(
        "the policies are in force",
        lambda: not server_verdict(api, *load(probe), NAMESPACE)[0].allowed,
    )
    judged, refused_upstream, disagreements = 0, 0, []
    for case in CASES:
        if not before[case.id].allowed:
            refused_upstream += 1
            continue
        judged += 1
        outcome, answer = server_verdict(api, *load(case), NAMESPACE)
        want = expected(case.id)
        text = answer.message
        # A policy's denial names its first failing validation only.
        named = not want or any(m in text for m in want)
        if outcome.allowed != (not want) or not named:
            disagreements.append(
                f"{case.id}: apiserver {answer.status} {text!r}; engine {sorted(want)}"
            )
    assert judged >= 50, (judged, refused_upstream)
    assert not disagreements, f"{len(disagreements)} of {judged} differ:\n" + "\n".join(
        disagreements
    )


def test_policies_are_type_checked_without_warnings(upstream: tuple[ControlPlane, Api]) -> None:
    _, api = upstream
    for doc in vap.export_policies().documents:
        if doc["kind"] != "ValidatingAdmissionPolicy":
            continue
        path = f"/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies/{doc['metadata']['name']}"
        stored = api.call("GET", path)
        if stored.status == 404:
            created = api.call(
                "POST", "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies", doc
            )
            assert created.allowed, created.message
            stored = api.call("GET", path)
        assert stored.allowed, stored.message
        assert not stored.warnings, stored.warnings
        assert yaml.safe_dump(stored.body["spec"]["validations"]) == yaml.safe_dump(
            doc["spec"]["validations"]
        )
