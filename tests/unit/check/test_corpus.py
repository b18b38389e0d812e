"""Every corpus case through the real `check` command: verdict, exact messages, warnings."""

from __future__ import annotations

import json

import pytest

from shared.check import cli
from tests.corpus_cases import Case, cases

CASES = cases()


def test_corpus_is_not_empty() -> None:
    assert len(CASES) >= 100


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_corpus_case(case: Case, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["-o", "json", str(case.path)]
    if case.old is not None:
        argv += ["--old", str(case.old)]
    code = cli.main(argv)
    out = json.loads(capsys.readouterr().out)
    if case.expect == "error":
        assert code == 2
        assert out["errors"], "an input error must be reported"
        return
    results = out["results"]
    assert len(results) == 1, f"expected one governed object, got {len(results)}"
    result = results[0]
    assert result["allowed"] is (case.expect == "allowed"), result["violations"]
    assert code == (0 if case.expect == "allowed" else 1)
    messages = [v["message"] for v in result["violations"]]
    rest = list(messages)
    for exact in case.violations:
        assert exact in rest, (exact, messages)
        rest.remove(exact)
    for fragment in case.contains:
        match = next((m for m in rest if fragment in m), None)
        assert match is not None, (fragment, messages)
        rest.remove(match)
    if case.violations or case.contains:
        assert rest == [], f"unexpected violations: {rest}"
    for fragment in case.warnings:
        assert any(fragment in w for w in result["warnings"]), (fragment, result["warnings"])
    assert all(isinstance(v["line"], int) and v["line"] >= 1 for v in result["violations"])
