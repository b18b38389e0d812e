"""`export-vap`: the exported expressions, evaluated by our CEL compiler on the test corpus,
give the same verdicts as the policy engine for every rule they cover."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from shared import bundled
from shared.policy.cel import CelError, compile_cel
from shared.policy.engine import PolicyEngine, json_copy, split_api_version
from shared.policy.mutation import apply_patch, mutation_patch
from tests.corpus_cases import cases
from webhook import vap

CASES = [c for c in cases() if c.expect != "error"]


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    return PolicyEngine.from_dir(None)


@pytest.fixture(scope="module")
def policies() -> vap.PolicySet:
    return vap.export_policies()


def _load(path: Path) -> dict[str, Any]:
    return next(d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict))


def _as_admitted(engine: PolicyEngine, obj: dict[str, Any]) -> dict[str, Any]:
    """The object a policy sees: pruned, defaulted and mutated, as after mutating admission."""
    _group, version = split_api_version(obj["apiVersion"])
    validator = engine.validator_for(obj["apiVersion"], obj["kind"])
    assert validator is not None
    work = json_copy(obj)
    validator.prune(version, work)
    ns = (work.get("metadata") or {}).get("namespace") or "default"
    apply_patch(work, mutation_patch(obj["kind"], work, ns, None))
    return work


def _failing(policies: vap.PolicySet, kind: str, obj: Any, old: Any) -> set[str]:
    plural = {"AgentHarness": "agentharnesses", "SandboxAgent": "sandboxagents"}[kind]
    ids = {e.rule_id for e in policies.exported if e.kind == kind}
    failed = set()
    for doc in policies.documents:
        if doc["kind"] != "ValidatingAdmissionPolicy":
            continue
        if doc["spec"]["matchConstraints"]["resourceRules"][0]["resources"] != [plural]:
            continue
        for exported in policies.exported:
            if exported.kind != kind or exported.validation not in doc["spec"]["validations"]:
                continue
            program = compile_cel(exported.validation["expression"])
            try:
                ok = program({"object": obj, "oldObject": old})
            except CelError:
                ok = False  # an evaluation error rejects under failurePolicy Fail
            if ok is not True:
                failed.add(exported.rule_id)
    assert failed <= ids
    return failed


def test_every_cel_rule_is_exported_or_explained(policies: vap.PolicySet) -> None:
    assert len(policies.exported) >= 30
    assert {k for k, _ in policies.skipped}.isdisjoint(e.rule_id for e in policies.exported)
    kinds = [d["kind"] for d in policies.documents]
    assert (
        kinds.count("ValidatingAdmissionPolicy")
        == kinds.count("ValidatingAdmissionPolicyBinding")
        == 2
    )
    for exported in policies.exported:
        compile_cel(exported.validation["expression"])
        if "messageExpression" in exported.validation:
            compile_cel(exported.validation["messageExpression"])


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_same_verdict_as_engine(case: Any, engine: PolicyEngine, policies: vap.PolicySet) -> None:
    obj = _load(case.path)
    old = _load(case.old) if case.old is not None else None
    if not engine.governs(str(obj.get("apiVersion")), str(obj.get("kind"))):
        pytest.skip("not a governed kind")
    verdict = engine.admit(obj, old=old, operation="UPDATE" if old else "CREATE")
    if any(v.rule == "schema:type-blocks-cel" for v in verdict.violations):
        pytest.skip("the schema rejects it before any CEL rule runs (in the apiserver too)")
    exported = {e.rule_id for e in policies.exported if e.kind == obj["kind"]}
    want = {v.rule for v in verdict.violations if v.rule in exported}
    admitted = _as_admitted(engine, obj)
    old_admitted = _as_admitted(engine, old) if old is not None else None
    got = _failing(policies, obj["kind"], admitted, old_admitted)
    assert got == want


def test_messages_name_the_field(policies: vap.PolicySet) -> None:
    by_id = {e.rule_id: e.validation for e in policies.exported if e.kind == "AgentHarness"}
    immutable = by_id["cel:spec.backend#0"]
    assert immutable["message"].startswith("spec.backend: spec.backend is immutable")
    assert immutable["expression"].startswith("oldObject == null || ")


def test_message_expression_evaluates(tmp_path: Path) -> None:
    crd = yaml.safe_load(
        (bundled.crd_dir() / "kagent.dev_sandboxagents.yaml").read_text(encoding="utf-8")
    )
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["x-kubernetes-validations"][0][
        "messageExpression"
    ] = "'name too long (got ' + string(size(self.metadata.name)) + ')'"
    (tmp_path / "crd.yaml").write_text(yaml.safe_dump(crd))
    root = [
        e for e in vap.export_policies(tmp_path).exported if "messageExpression" in e.validation
    ]
    assert root
    obj = {"metadata": {"name": "x" * 70}, "spec": {"platform": "substrate"}}
    text = compile_cel(root[0].validation["messageExpression"])({"object": obj})
    assert text.startswith("<root>: ") and "(got 70)" in text


def test_cli_writes_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "vap.yaml"
    assert vap.main(["-o", str(out)]) == 0
    text = out.read_text()
    assert "webhook:W1" in text and "webhook:W6" in text
    docs = [d for d in yaml.safe_load_all(text) if d]
    assert {d["apiVersion"] for d in docs} == {"admissionregistration.k8s.io/v1"}
    assert vap.main(["--crds", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
