"""`check --jobs N` prints exactly what one process prints: the same results, skipped objects
and problems in the same order, a YAML error ending its stream as it does in one process."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from shared.check import cli, parallel

ROOT = Path(__file__).resolve().parents[3]
HARNESS = """\
apiVersion: kagent.dev/v1alpha2
kind: AgentHarness
metadata:
  name: claw-{i}
spec:
  backend: {backend}
  runtime: substrate
  substrate: {{gatewayTokenSecretRef: {{name: tok}}}}
"""
ANCHORED = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: &n cm-%d}
data: {a: *n}
"""


def _stream(count: int, broken_at: int | None = None) -> str:
    docs = []
    for i in range(count):
        if i == broken_at:
            docs.append("a: [unclosed\n")
        elif i % 7 == 3:
            docs.append(ANCHORED % i)
        else:
            docs.append(HARNESS.format(i=i, backend="hermes" if i % 5 == 0 else "openclaw"))
    return "---\n".join(docs)


def _check(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "MIN_PARALLEL_DOCUMENTS", 10)
    monkeypatch.setattr(parallel, "_MIN_CHUNK", 7)


@pytest.mark.skipif(not parallel.can_fork(), reason="workers need fork (Linux)")
@pytest.mark.parametrize("fmt", ["json", "text"])
def test_jobs_print_what_one_process_prints(tmp_path: Path, small_chunks: None, fmt: str) -> None:
    (tmp_path / "a.yaml").write_text(_stream(60))
    (tmp_path / "b.yaml").write_text(_stream(50, broken_at=23))  # the rest of b is not read
    (tmp_path / "c.json").write_text('{"apiVersion": "v1", "kind": "Secret"}')
    (tmp_path / "d.yaml").write_text(_stream(30))
    args = ["-o", fmt, "-v", str(tmp_path), str(tmp_path / "missing.yaml")]
    one = _check("--jobs", "1", *args)
    assert one[0] == 2 and "did not find expected" in one[1]
    assert one[1].count("b.yaml") < 50  # nothing of b after its error
    for jobs in ("2", "3"):
        assert _check("--jobs", jobs, *args) == one


def test_small_inputs_stay_in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("a worker pool for a small input")

    monkeypatch.setattr(parallel.multiprocessing, "get_context", no_pool)
    code, out, _ = _check("--jobs", "4", str(ROOT / "examples"))
    assert code == 1 and "Checked 14 objects" in out, out  # examples/invalid is denied


def test_jobs_must_be_a_number() -> None:
    code, _, err = _check("--jobs", "many", str(ROOT / "examples"))
    assert code == 2 and "not a number of processes: 'many'" in err
    assert "invalid literal" not in err
