"""End to end: `kagent-substrate devstack kube` as a real process; kubectl applies the product
and devstack CRDs and an AgentHarness; a restart on the same state keeps every object."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.e2e

HARNESS = """apiVersion: kagent.dev/v1alpha2
kind: AgentHarness
metadata:
  name: demo
  namespace: default
spec:
  runtime: openshell
  backend: hermes
"""


def _start(tmp: Path, port: int = 0) -> tuple[subprocess.Popen[str], str]:
    log = (tmp / "kube.log").open("a")
    proc = subprocess.Popen(
        [
            str(BIN / "kagent-substrate"),
            "devstack",
            "kube",
            "--kubeconfig",
            str(tmp / "kc"),
            "--state-dir",
            str(tmp / "state"),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("READY "):
            return proc, line.split()[1]
        if proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"no READY line; log:\n{(tmp / 'kube.log').read_text()}")


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(15)


def test_cli_help():
    out = subprocess.run(
        [str(BIN / "kagent-substrate"), "devstack", "kube", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0 and "--kubeconfig" in out.stdout


def test_product_crds_apply_and_survive_restart(tmp_path: Path):
    env = {
        **os.environ,
        "KUBECONFIG": str(tmp_path / "kc"),
        "KUBECACHEDIR": str(tmp_path / "cache"),
    }

    def kubectl(
        *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        p = subprocess.run(
            [str(BIN / "kubectl"), *args],
            input=stdin,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert not check or p.returncode == 0, p.stderr
        return p

    proc, url = _start(tmp_path)
    try:
        crds = [ROOT / "charts/kagent-substrate/crds", ROOT / "devstack/crds"]
        args = [a for d in crds if d.exists() for a in ("-f", str(d))]
        out = kubectl("apply", *args)
        assert "agentharnesses.kagent.dev created" in out.stdout
        kubectl(
            "wait", "--for=condition=Established", "crd/agentharnesses.kagent.dev", "--timeout=20s"
        )
        kubectl("apply", "-f", "-", stdin=HARNESS)
        header = kubectl("get", "ahr").stdout.splitlines()[0].split()
        assert header[:5] == ["NAME", "RUNTIME", "BACKEND", "READY", "ID"] and header[-1] == "AGE"
        bad = kubectl(
            "apply",
            "-f",
            "-",
            stdin=HARNESS.replace("name: demo", "name: bad").replace("openshell", "nope"),
            check=False,
        )
        assert bad.returncode == 1 and 'The AgentHarness "bad" is invalid' in bad.stderr
        assert '* spec.runtime: Unsupported value: "nope"' in bad.stderr
    finally:
        _stop(proc)
    port = int(url.rsplit(":", 1)[1])
    proc, url2 = _start(tmp_path, port)
    try:
        assert url2 == url
        assert "demo" in kubectl("get", "ahr").stdout
    finally:
        _stop(proc)
