"""`kagent-substrate check`: inputs, formats, lines, exit codes, hostile input, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from shared.check import cli

GOOD = """\
apiVersion: kagent.dev/v1alpha2
kind: AgentHarness
metadata:
  name: good
  namespace: team-a
spec:
  backend: openclaw
  runtime: substrate
  substrate:
    gatewayTokenSecretRef:
      name: tok
"""
BAD = """\
apiVersion: kagent.dev/v1alpha2
kind: AgentHarness
metadata:
  name: bad
spec:
  backend: openclaw
  runtime: substrate
  substrate:
    workloadImage: ghcr.io/x/y:latest
    gatewayTokenSecretRef:
      name: tok
"""
SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: tok
stringData:
  token: x
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_allowed_file_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(write(tmp_path, "a.yaml", GOOD)))
    assert code == 0 and "1 allowed, 0 denied" in out


def test_denied_reports_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "bad.yaml", BAD)
    code, out, _ = run(capsys, str(path))
    assert code == 1
    assert f"{path}:1: AgentHarness default/bad: denied (1 violation)" in out
    assert f"{path}:9: spec.substrate.workloadImage: Invalid value" in out


def test_multi_document_directory_and_skipped_kinds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "d/one.yaml", GOOD + "---\n" + SECRET)
    write(tmp_path, "d/sub/two.yml", BAD)
    write(tmp_path, "d/ignored.txt", "not yaml: [")
    code, out, _ = run(capsys, "-o", "json", str(tmp_path / "d"))
    doc = json.loads(out)
    assert code == 1
    assert doc["summary"] == {"checked": 2, "allowed": 1, "denied": 1, "skipped": 1}
    bad = next(r for r in doc["results"] if r["name"] == "bad")
    assert bad["index"] == 0 and bad["line"] == 1 and bad["namespace"] == "default"
    assert bad["violations"][0] == {
        "path": "spec.substrate.workloadImage",
        "message": bad["violations"][0]["message"],
        "line": 9,
        "rule": "schema:pattern",
    }


def test_kind_list_items_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    items = "\n".join(
        "  - " + line if i == 0 else "    " + line
        for doc in (GOOD, BAD)
        for i, line in enumerate(doc.splitlines())
    )
    path = write(tmp_path, "list.yaml", "apiVersion: v1\nkind: List\nitems:\n" + items + "\n")
    code, out, _ = run(capsys, "-o", "json", str(path))
    results = json.loads(out)["results"]
    assert code == 1 and [r["name"] for r in results] == ["good", "bad"]
    assert results[1]["line"] == 15 and results[1]["violations"][0]["line"] == 23


def test_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(BAD.encode())))
    code, out, _ = run(capsys, "-")
    assert code == 1 and "<stdin>:1: AgentHarness default/bad" in out


def test_old_pairs_objects_for_update(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = write(tmp_path, "old.yaml", GOOD)
    new = write(tmp_path, "new.yaml", GOOD.replace("backend: openclaw", "backend: nemoclaw"))
    code, out, _ = run(capsys, str(new), "--old", str(old))
    assert code == 1 and "denied (1 violation) on update" in out and "spec.backend" in out
    code, _, _ = run(capsys, str(new))
    assert code == 0


def test_junit_and_sarif_are_well_formed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "mixed.yaml", GOOD + "---\n" + BAD)
    _, out, _ = run(capsys, "-o", "junit", str(path))
    suite = ET.fromstring(out).find("testsuite")
    assert suite is not None and suite.get("tests") == "2" and suite.get("failures") == "1"
    _, out, _ = run(capsys, "-o", "sarif", str(path))
    sarif = json.loads(out)
    result = sarif["runs"][0]["results"][0]
    assert sarif["version"] == "2.1.0" and result["level"] == "error"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 21


def test_custom_crds_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys, "--crds", str(tmp_path / "nope"), str(write(tmp_path, "a.yaml", GOOD))
    )
    assert code == 2 and "does not exist" in err


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("a: [1, 2\n", "invalid YAML"),
        ("- just\n- a list\n", "is a list, not a Kubernetes object"),
        ("apiVersion: v1\n", "kind must be set"),
        ("x: " + "[" * 10_001 + "]" * 10_001 + "\n", "nested deeper than 10000 levels"),
        ('{"x": ' + "[" * 10_001 + "]" * 10_001 + "}\n", "nested deeper than 10000 levels"),
        (
            'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
            + "".join(
                f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
                for p, c in zip("abcdefgh", "bcdefghi", strict=True)
            ),
            "excessive aliasing",
        ),
    ],
)
def test_hostile_or_malformed_input_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, fragment: str
) -> None:
    path = write(tmp_path, "x.yaml", text)
    code, out, _ = run(capsys, str(path))
    assert code == 2 and fragment in out


def test_oversized_document_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "big.yaml", GOOD + "  description: " + "x" * (10 * 1024 * 1024) + "\n")
    code, out, _ = run(capsys, str(path))
    assert code == 2 and "at most 3 MiB" in out


def test_unreadable_inputs_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    code, out, _ = run(capsys, str(tmp_path / "missing.yaml"), str(binary))
    assert code == 2 and "no such file or directory" in out and "not UTF-8" in out


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys)[0] == 2
    assert run(capsys, "-o", "xml", "x")[0] == 2


def test_subprocess_prints_one_json_document_and_no_traceback(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("kagent-substrate")
    bad_yaml = write(tmp_path, "broken.yaml", "a: [\n")
    proc = subprocess.run(
        [str(exe), "check", "-o", "json", str(bad_yaml)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr + proc.stdout
    assert json.loads(proc.stdout)["errors"][0]["line"] == 2


def test_cel_grammar_cache_is_private_and_changes_nothing(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("kagent-substrate")
    bad = write(tmp_path, "bad.yaml", BAD)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "c")}
    outs = [
        subprocess.run(
            [str(exe), "check", "-o", "json", str(bad)], capture_output=True, text=True, env=env
        )
        for _ in range(2)  # the first run writes the cache, the second reads it
    ]
    cache = tmp_path / "c" / "kagent-substrate" / "cel-grammar.lark-cache"
    assert cache.is_file() and (cache.parent.stat().st_mode & 0o077) == 0
    assert outs[0].returncode == outs[1].returncode == 1
    assert outs[0].stdout == outs[1].stdout and not outs[1].stderr


@pytest.mark.parametrize("command", ["check", "test"])
def test_write_error_is_not_reported_as_a_bug(tmp_path: Path, command: str) -> None:
    exe = Path(sys.executable).with_name("kagent-substrate")
    good = write(tmp_path, "good.yaml", GOOD)
    if command == "test":  # the declarative suite prints its table the same way
        good = write(
            tmp_path,
            "kagent-substrate-test.yaml",
            "apiVersion: kagent-substrate.kagent.dev/v1alpha1\nkind: Test\ncases:\n"
            "- {name: good, resource: good.yaml, expect: allowed}\n",
        )
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [str(exe), command, str(good)], stdout=full, stderr=subprocess.PIPE, text=True
        )
    assert proc.returncode == 3
    assert "cannot write the report: No space left on device" in proc.stderr
    assert "bug" not in proc.stderr and "Traceback" not in proc.stderr


def test_messages_do_not_repeat_the_file_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "missing.yaml")
    _, out, _ = run(capsys, missing)
    assert f"{missing}: error: no such file or directory" in out
    assert out.count(missing) == 1


def test_broken_crd_file_names_file_line_and_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    crd = write(tmp_path, "crds/a.yaml", "apiVersion: v1\nkind: x: y\n")
    code, _, err = run(capsys, "--crds", str(crd.parent), str(write(tmp_path, "a.yaml", GOOD)))
    assert code == 2
    assert f"{crd}:2: invalid YAML: mapping values are not allowed" in err
    assert "line 2 column 8" in err
    assert "<unicode string>" not in err and "Traceback" not in err


@pytest.mark.parametrize("pool", ["a/b/c", "Team/pool", "team/Pool_1", "/pool", "team/"])
def test_malformed_default_worker_pool_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pool: str
) -> None:
    code, out, err = run(
        capsys, "--default-worker-pool", pool, str(write(tmp_path, "a.yaml", GOOD))
    )
    assert code == 2 and not out
    assert "argument --default-worker-pool" in err and "[NAMESPACE/]NAME" in err


@pytest.mark.parametrize("pool", ["pool", "team-a/pool", "team-a/pool.v2"])
def test_well_formed_default_worker_pool_is_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pool: str
) -> None:
    code, _, _ = run(capsys, "--default-worker-pool", pool, str(write(tmp_path, "a.yaml", GOOD)))
    assert code == 0


def test_files_of_skipped_kinds_and_empty_files_are_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys,
        str(write(tmp_path, "secret.yaml", SECRET)),
        str(write(tmp_path, "empty.yaml", "# nothing here\n")),
    )
    assert code == 0
    assert (
        "Checked 0 objects in 2 files: 0 allowed, 0 denied; 1 object of other kinds skipped." in out
    )
