"""`check` and kinds (issue 16 item 2): near-miss spellings of our kinds and group, and unserved
kinds in kagent.dev, are errors naming what is served; other kinds are skipped, listed with -v,
counted in every format; --skip, --reject, --fail-if-empty."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from shared.check import cli
from shared.check.kinds import CHECK, SKIP, KindFilter, classify
from shared.policy.engine import PolicyEngine

HARNESS = """\
apiVersion: {api_version}
kind: {kind}
metadata:
  name: claw
spec:
  backend: openclaw
"""
SECRET = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: tok\nstringData:\n  token: x\n"
MODEL = "apiVersion: kagent.dev/v1alpha2\nkind: ModelConfig\nmetadata:\n  name: m\nspec: {}\n"


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    return PolicyEngine.from_dir()


@pytest.mark.parametrize(
    ("api_version", "kind", "fragment"),
    [
        ("kagent.dev/v1alpha2", "AgentHarnes", 'did you mean "AgentHarness"?'),
        ("kagent.dev/v1alpha2", "agentharness", 'did you mean "AgentHarness"?'),
        ("kagent.dev/v1alpha2", "agentharnesses", 'did you mean "AgentHarness"?'),
        ("kagent.dev/v1alpha2", "SandboxAgents", 'did you mean "SandboxAgent"?'),
        ("kagent.dev/v1alpha2", "Harness", 'no matches for kind "Harness"'),
        ("kagnet.dev/v1alpha2", "AgentHarness", '"AgentHarness" in "kagent.dev/v1alpha2"'),
        ("apps/v1", "SandboxAgent", '"SandboxAgent" in "kagent.dev/v1alpha2"'),
        ("kagent.dv/v1alpha2", "Widget", 'did you mean group "kagent.dev"?'),
    ],
)
def test_near_misses_and_unserved_kinds_are_errors(
    engine: PolicyEngine, api_version: str, kind: str, fragment: str
) -> None:
    what = classify(engine, api_version, kind, KindFilter())
    assert what not in (CHECK, SKIP)
    assert fragment in what
    assert "served: AgentHarness (kagent.dev/v1alpha2), SandboxAgent (kagent.dev/v1alpha2)" in what


@pytest.mark.parametrize(
    ("api_version", "kind", "expected"),
    [
        ("kagent.dev/v1alpha2", "AgentHarness", CHECK),
        ("kagent.dev/v1alpha1", "AgentHarness", CHECK),  # the engine denies the unserved version
        ("v1", "Secret", SKIP),
        ("apps/v1", "Deployment", SKIP),
        ("kagent.dev/v1alpha2", "ModelConfig", SKIP),  # kagent's own kind
        ("kagent.dev/v1alpha2", "Agent", SKIP),
        ("example.com/v1", "Widget", SKIP),
    ],
)
def test_checked_and_skipped(
    engine: PolicyEngine, api_version: str, kind: str, expected: str
) -> None:
    assert classify(engine, api_version, kind, KindFilter()) == expected


def test_skip_and_reject(engine: PolicyEngine) -> None:
    kinds = KindFilter(KindFilter.parse(["AgentHarnes"]), KindFilter.parse(["v1/Secret,/Secret"]))
    assert classify(engine, "kagent.dev/v1alpha2", "AgentHarnes", kinds) == SKIP
    assert "refused by --reject" in classify(engine, "v1", "Secret", kinds)
    only = KindFilter(skip=KindFilter.parse(["kagent.dev/AgentHarness"]))
    assert classify(engine, "kagent.dev/v1alpha2", "AgentHarness", only) == SKIP


def _run(tmp_path: Path, text: str, *flags: str) -> tuple[int, str]:
    import contextlib
    import io

    path = tmp_path / "in.yaml"
    path.write_text(text)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = cli.main([*flags, str(path)])
    return code, out.getvalue()


def test_typo_exits_1_and_is_located(tmp_path: Path) -> None:
    text = SECRET + "---\n" + HARNESS.format(api_version="kagent.dev/v1alpha2", kind="AgentHarnes")
    code, out = _run(tmp_path, text)
    assert code == 1
    assert "in.yaml:8: AgentHarnes default/claw: denied (1 violation)" in out
    assert 'no matches for kind "AgentHarnes" in version "kagent.dev/v1alpha2"' in out
    code, out = _run(tmp_path, text, "-o", "json")
    doc = json.loads(out)
    assert doc["summary"] == {"checked": 1, "allowed": 0, "denied": 1, "skipped": 1}
    assert doc["results"][0]["violations"][0]["rule"] == "input:kind"


def test_skipped_are_listed_with_v_and_counted_everywhere(tmp_path: Path) -> None:
    good = HARNESS.format(api_version="kagent.dev/v1alpha2", kind="AgentHarness")
    text = SECRET + "---\n" + MODEL + "---\n" + good
    code, out = _run(tmp_path, text, "-v")
    assert code == 0
    assert "in.yaml:1: Secret default/tok (v1): skipped" in out
    assert "in.yaml:8: ModelConfig default/m (kagent.dev/v1alpha2): skipped" in out
    assert "2 objects of other kinds skipped" in out
    _, out = _run(tmp_path, text, "-o", "json")
    doc = json.loads(out)
    assert doc["summary"]["skipped"] == 2
    _, out = _run(tmp_path, text, "-o", "junit")
    suite = ET.fromstring(out).find("testsuite")
    assert suite is not None and suite.get("skipped") == "2" and suite.get("tests") == "3"
    assert len(suite.findall("testcase/skipped")) == 2
    _, out = _run(tmp_path, text, "-o", "sarif")
    run = json.loads(out)["runs"][0]
    assert run["properties"]["summary"]["skipped"] == 2


def test_fail_if_empty(tmp_path: Path) -> None:
    assert _run(tmp_path, SECRET)[0] == 0
    assert _run(tmp_path, SECRET, "--fail-if-empty")[0] == 1
    good = HARNESS.format(api_version="kagent.dev/v1alpha2", kind="AgentHarness")
    assert _run(tmp_path, good, "--fail-if-empty")[0] == 0


def test_reject_flag_fails_the_run(tmp_path: Path) -> None:
    code, out = _run(tmp_path, SECRET, "--reject", "Secret")
    assert code == 1 and "refused by --reject" in out
