"""A missing or malformed kubeconfig: a clear error naming --kubeconfig, exit 2, no traceback
(issue 15 item 8), from the real console script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

EXE = Path(sys.executable).parent / "kagent-substrate"


@pytest.mark.parametrize(
    "content",
    [None, "garbage: [\n", "- a\n", "just text\n", "", "apiVersion: v1\n", "current-context: x\n"],
)
def test_bad_kubeconfig_is_a_clear_error(tmp_path: Path, content: str | None) -> None:
    path = tmp_path / "kubeconfig"
    if content is not None:
        path.write_text(content)
    proc = subprocess.run(
        [str(EXE), "controller", "--kubeconfig", str(path), "--gateway-bind", ""],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "KUBERNETES_SERVICE_HOST"},
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"--kubeconfig {path}" in proc.stderr
    assert proc.stderr.startswith("kagent-substrate controller: error: ")


def test_no_kubeconfig_outside_a_cluster_is_a_clear_error() -> None:
    proc = subprocess.run(
        [str(EXE), "controller", "--gateway-bind", ""],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            k: v
            for k, v in os.environ.items()
            if k not in ("KUBERNETES_SERVICE_HOST", "KUBECONFIG")
        },
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "give --kubeconfig" in proc.stderr
