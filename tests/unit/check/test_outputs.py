"""`check` output formats (issue 16 item 5): JSON with formatVersion and a shipped JSON Schema
(validated here with an independent validator), SARIF for code scanning, JUnit, github."""

from __future__ import annotations

import contextlib
import io
import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from shared.check import cli
from shared.check.report_json import SCHEMA_PATH

ROOT = Path(__file__).resolve().parents[3]
AHR_WARN = """\
apiVersion: kagent.dev/v1alpha2
kind: AgentHarness
metadata: {name: warned, namespace: team-a}
spec:
  backend: openclaw
  runtime: substrate
  image: ghcr.io/x/y@sha256:0000000000000000000000000000000000000000000000000000000000000000
  substrate:
    gatewayTokenSecretRef: {name: tok}
"""
SECRET = "apiVersion: v1\nkind: Secret\nmetadata: {name: tok}\nstringData: {token: x}\n"
SBX_BAD = """\
apiVersion: kagent.dev/v1alpha2
kind: SandboxAgent
metadata: {name: sbx}
spec:
  platform: substrate
  skills: {refs: [x]}
  declarative: {runtime: go}
"""


def _run(cwd: Path, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    old = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            code = cli.main(list(argv))
    finally:
        os.chdir(old)
    return code, out.getvalue()


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "mixed.yaml").write_text(AHR_WARN + "---\n" + SECRET + "---\n" + SBX_BAD)
    (tmp_path / "m" / "broken.yaml").write_text("a: [\n")
    (tmp_path / "m" / "scalar.yaml").write_text("just a string\n")
    for name in ("agentharness-hermes-on-substrate.yaml", "agentharness-both-gateway-tokens.yaml"):
        (tmp_path / "m" / name).write_text((ROOT / "examples" / "invalid" / name).read_text())
    return tmp_path


def test_json_matches_the_shipped_schema(tree: Path) -> None:
    code, out = _run(tree, "-o", "json", "m")
    assert code == 2  # broken.yaml
    doc = json.loads(out)
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(doc)
    assert doc["formatVersion"] == 1
    assert doc["summary"] == {"checked": 4, "allowed": 1, "denied": 3, "skipped": 1}
    assert [k["kind"] for k in doc["skipped"]] == ["Secret"]
    assert {e["document"] for e in doc["errors"]} == {1}
    assert "document 1 is a string" in json.dumps(doc["errors"])
    # every key is present even when there is nothing to say
    (tree / "ok.yaml").write_text(AHR_WARN)
    _, out = _run(tree, "-o", "json", "ok.yaml")
    clean = json.loads(out)
    jsonschema.Draft202012Validator(schema).validate(clean)
    assert clean["errors"] == [] and clean["skipped"] == []


def test_sarif_rules_are_stable_unique_described_and_uris_relative(tree: Path) -> None:
    _, out = _run(tree, "-o", "sarif", "m")
    run = json.loads(out)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert len(ids) == len(set(ids))
    assert all(not i.startswith(("cel:", "schema:")) for i in ids)  # always per kind
    assert any(i.startswith("SandboxAgent/spec/cel-") for i in ids)
    assert "AgentHarness/webhook:W6" in ids  # a warning has its own rule
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["text"]
    sbx = next(r for r in rules if r["id"].startswith("SandboxAgent/spec/cel-"))
    assert (
        "spec.skills is not supported when spec.platform is substrate"
        in (sbx["fullDescription"]["text"])
    )
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert location["uriBaseId"] == "%SRCROOT%" and location["uri"].startswith("m/")
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tree.as_uri() + "/"
    assert run["properties"]["summary"]["skipped"] == 1
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels["AgentHarness/webhook:W6"] == "warning"
    # the same input gives the same ids in another run (not positional in the output)
    _, again = _run(tree, "-o", "sarif", "m/mixed.yaml")
    again_ids = {r["id"] for r in json.loads(again)["runs"][0]["tool"]["driver"]["rules"]}
    assert again_ids <= set(ids)


def test_junit_lists_skipped_and_puts_violations_in_the_failure_message(tree: Path) -> None:
    _, out = _run(tree, "-o", "junit", "m")
    suite = ET.fromstring(out).find("testsuite")
    assert suite is not None
    assert suite.get("skipped") == "1" and suite.get("failures") == "3"
    assert suite.get("errors") == "2" and suite.get("tests") == "7"
    skipped = suite.findall("testcase/skipped")
    assert len(skipped) == 1 and "Secret" in (skipped[0].get("message") or "")
    failure = next(
        f for f in suite.iterfind("testcase/failure") if "hermes" in (f.get("message") or "")
    )
    assert "backend hermes is not supported on the substrate runtime" in (
        failure.get("message") or ""
    )
    names = [c.get("name") or "" for c in suite.iter("testcase")]
    assert any("(document 3," in n for n in names) and not any("document 0" in n for n in names)


def test_github_annotations(tree: Path) -> None:
    code, out = _run(tree, "-o", "github", "m/mixed.yaml")
    assert code == 1
    lines = out.splitlines()
    assert any(
        line.startswith("::error file=m/mixed.yaml,line=")
        and "spec.skills is not supported" in line
        for line in lines
    )
    assert any(
        line.startswith("::warning file=m/mixed.yaml,line=1,") and "spec.image is ignored" in line
        for line in lines
    )
    assert lines[-1].startswith("Checked 2 objects")
