"""`kagent-substrate test` (issue 16 item 4): declarative test files, results table, exit codes,
JUnit; the repo's corpus and the shipped example are such files."""

from __future__ import annotations

import contextlib
import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from shared.check import suite_cli

ROOT = Path(__file__).resolve().parents[3]
HARNESS = """\
apiVersion: kagent.dev/v1alpha2
kind: AgentHarness
metadata: {name: claw}
spec:
  backend: hermes
  runtime: substrate
  substrate: {gatewayTokenSecretRef: {name: tok}}
"""


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = suite_cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


def _test_file(tmp_path: Path, cases: str) -> Path:
    (tmp_path / "h.yaml").write_text(HARNESS)
    path = tmp_path / "kagent-substrate-test.yaml"
    path.write_text(
        "apiVersion: kagent-substrate.kagent.dev/v1alpha1\nkind: Test\ncases:\n" + cases
    )
    return path


def test_the_shipped_example_passes() -> None:
    code, out, _ = _run("-v", str(ROOT / "examples" / "tests"))
    assert code == 0, out
    assert out.splitlines()[-1] == "4 cases: 4 passed, 0 failed"


def test_a_mismatch_fails_with_the_reason(tmp_path: Path) -> None:
    _test_file(
        tmp_path,
        "- {name: wrong, resource: h.yaml, expect: allowed}\n"
        "- {name: right, resource: h.yaml, expect: denied, contains: [backend hermes]}\n"
        "- {name: bad-msg, resource: h.yaml, expect: denied, violations: [nope]}\n",
    )
    code, out, _ = _run(str(tmp_path))
    assert code == 1
    assert "wrong" in out and "FAIL" in out and "expected allowed, got denied" in out
    assert "missing violation: nope" in out and "unexpected violation: spec.backend" in out
    assert "right" not in out.split("\n", 1)[1].split("3 cases")[0].replace("wrong", "")
    assert out.splitlines()[-1] == "3 cases: 1 passed, 2 failed"
    code, out, _ = _run("-o", "junit", str(tmp_path))
    suite = ET.fromstring(out).find("testsuite")
    assert suite is not None and suite.get("tests") == "3" and suite.get("failures") == "2"


def test_update_and_patch_and_warnings(tmp_path: Path) -> None:
    (tmp_path / "old.yaml").write_text(HARNESS.replace("hermes", "openclaw"))
    (tmp_path / "new.yaml").write_text(
        HARNESS.replace("hermes", "nemoclaw").replace("spec:\n", "spec:\n  image: x\n")
    )
    _test_file(
        tmp_path,
        "- name: immutable backend\n  resource: new.yaml\n  old: old.yaml\n  expect: denied\n"
        "  contains: [spec.backend is immutable]\n"
        "- name: pinned\n  resource: old.yaml\n  expect: allowed\n"
        "  patch: [{op: add, path: /spec/substrate/snapshotsConfig,"
        " value: {location: 'gs://ate-snapshots/default/claw'}}]\n",
    )
    code, out, _ = _run(str(tmp_path))
    assert code == 0, out


@pytest.mark.parametrize(
    ("cases", "fragment"),
    [
        ("- {name: x, resource: h.yaml}\n", "cases[0].expect is required"),
        (
            "- {name: x, resource: h.yaml, expect: maybe}\n",
            "expect must be one of allowed, denied, error",
        ),
        ("- {name: x, resource: h.yaml, expect: denied, colour: red}\n", "unknown field 'colour'"),
        (
            "- {name: x, resource: h.yaml, expect: denied, contains: oops}\n",
            "contains must be a list of strings",
        ),
        ("  []\n", "cases must be a non-empty list"),
    ],
)
def test_bad_test_files_exit_2_naming_the_field(tmp_path: Path, cases: str, fragment: str) -> None:
    _test_file(tmp_path, cases)
    code, _, err = _run(str(tmp_path))
    assert code == 2 and fragment in err and "Traceback" not in err


def test_no_test_file_found(tmp_path: Path) -> None:
    code, _, err = _run(str(tmp_path))
    assert code == 2 and "no kagent-substrate-test.yaml under" in err


def test_an_input_error_names_the_resource_it_is_in(tmp_path: Path) -> None:
    (tmp_path / "str.yaml").write_text("just a string\n")
    _test_file(tmp_path, "- {name: s, resource: str.yaml, expect: allowed}\n")
    code, out, _ = _run(str(tmp_path))
    assert code == 1
    assert f"input error in {tmp_path / 'str.yaml'}:1: document 1 is a string" in out


def test_a_malformed_default_worker_pool_is_refused(tmp_path: Path) -> None:
    path = _test_file(tmp_path, "- {name: ok, resource: h.yaml, expect: denied}\n")
    path.write_text(
        path.read_text().replace("cases:", "options: {defaultWorkerPool: a/b/c}\ncases:")
    )
    code, _, err = _run(str(tmp_path))
    assert code == 2
    assert "options.defaultWorkerPool: expected [NAMESPACE/]NAME" in err
