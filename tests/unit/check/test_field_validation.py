"""`check --field-validation` and the API server's decoding limits (issue 15 item 7, issue 16
item 3): unknown and duplicate fields per Strict/Warn/Ignore, nesting up to 10,000 levels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.check import cli

DUPLICATE = """\
apiVersion: kagent.dev/v1alpha2
kind: AgentHarness
metadata:
  name: dup
spec:
  backend: hermes
  backend: openclaw
  runtime: substrate
  substrate:
    gatewayTokenSecretRef: {name: tok}
"""
UNKNOWN = """\
apiVersion: kagent.dev/v1alpha2
kind: AgentHarness
metadata:
  name: unknown
spec:
  backend: openclaw
  colour: blue
"""


def deep_sandboxagent(levels: int, as_json: bool = False) -> str:
    """A substrate SandboxAgent whose preserved ``declarative.deployment`` nests ``levels`` deep."""
    value: object = 1
    for _ in range(levels - 3):  # the object, spec and declarative are 3 levels
        value = {"n": value}
    obj = {
        "apiVersion": "kagent.dev/v1alpha2",
        "kind": "SandboxAgent",
        "metadata": {"name": "deep"},
        "spec": {
            "platform": "substrate",
            "declarative": {"runtime": "go", "deployment": value},
        },
    }
    return json.dumps(obj) if as_json else "# YAML flow style\n" + json.dumps(obj).replace('"', "'")


def _check(tmp_path: Path, text: str, *flags: str, name: str = "x.yaml") -> tuple[int, dict]:  # type: ignore[type-arg]
    path = tmp_path / name
    path.write_text(text)
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["-o", "json", *flags, str(path)])
    return code, json.loads(out.getvalue())


def test_duplicate_field_is_an_error_by_default(tmp_path: Path) -> None:
    code, doc = _check(tmp_path, DUPLICATE)
    assert code == 1
    (result,) = doc["results"]
    assert [v["message"] for v in result["violations"]] == ['duplicate field "spec.backend"']
    assert result["violations"][0]["line"] == 7  # the second occurrence


def test_duplicate_field_warns_under_warn_and_last_value_wins(tmp_path: Path) -> None:
    code, doc = _check(tmp_path, DUPLICATE, "--field-validation", "Warn")
    assert code == 0  # last value (openclaw) wins: no hermes-on-substrate denial
    assert doc["results"][0]["warnings"] == ['duplicate field "spec.backend"']
    code, doc = _check(tmp_path, DUPLICATE, "--field-validation", "Ignore")
    assert code == 0 and doc["results"][0]["warnings"] == []


def test_unknown_field_per_mode(tmp_path: Path) -> None:
    code, doc = _check(tmp_path, UNKNOWN)
    assert code == 1
    assert [v["message"] for v in doc["results"][0]["violations"]] == [
        'unknown field "spec.colour"'
    ]
    code, doc = _check(tmp_path, UNKNOWN, "--field-validation", "Warn")
    assert code == 0 and doc["results"][0]["warnings"] == ['unknown field "spec.colour"']
    code, doc = _check(tmp_path, UNKNOWN, "--field-validation", "Ignore")
    assert code == 0 and doc["results"][0]["warnings"] == []


def test_bad_mode_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(UNKNOWN)
    assert cli.main(["--field-validation", "strict", str(path)]) == 2
    assert "Strict" in capsys.readouterr().err


@pytest.mark.parametrize("levels", [150, 1_500, 10_000])
@pytest.mark.parametrize("as_json", [False, True])
def test_deep_nesting_is_admitted_up_to_the_api_servers_limit(
    tmp_path: Path, levels: int, as_json: bool
) -> None:
    text = deep_sandboxagent(levels, as_json)
    code, doc = _check(tmp_path, text, name="deep.json" if as_json else "deep.yaml")
    assert code == 0, doc
    assert doc["summary"]["allowed"] == 1


@pytest.mark.parametrize("as_json", [False, True])
def test_nesting_beyond_the_limit_is_refused(tmp_path: Path, as_json: bool) -> None:
    text = deep_sandboxagent(10_001, as_json)
    code, doc = _check(tmp_path, text, name="deep.json" if as_json else "deep.yaml")
    assert code == 2
    assert "nested deeper than 10000 levels" in doc["errors"][0]["message"]
