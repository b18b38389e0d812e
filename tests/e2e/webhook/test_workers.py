"""``--workers N``: N processes share the HTTPS port; SIGTERM stops them all."""

from __future__ import annotations

import json
import signal
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from shared.certs import make_ca, make_serving_cert

pytestmark = pytest.mark.e2e
EXE = str(Path(sys.executable).parent / "kagent-substrate")
REVIEW = {
    "apiVersion": "admission.k8s.io/v1",
    "kind": "AdmissionReview",
    "request": {
        "uid": "u-1",
        "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
        "operation": "CREATE",
        "object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}},
    },
}


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def listening_sockets(port: int) -> int:
    """LISTEN sockets on 127.0.0.1:``port`` (from /proc/net/tcp)."""
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    local = f"0100007F:{port:04X}"
    return sum(1 for row in rows if row.split()[1] == local and row.split()[3] == "0A")


def test_two_workers_serve_and_stop_together(tmp_path: Path) -> None:
    ca = make_ca()
    make_serving_cert(ca, ["127.0.0.1"]).write(tmp_path / "tls.crt", tmp_path / "tls.key")
    proc = subprocess.Popen(
        [
            EXE, "webhook", "--port=0", "--metrics-port=0", "--bind-address=127.0.0.1",
            f"--tls-cert-file={tmp_path / 'tls.crt'}", f"--tls-private-key-file={tmp_path / 'tls.key'}",
            "--workers=2",
        ],
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "webhook.log").open("w"),
        text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("READY https://127.0.0.1:"), (tmp_path / "webhook.log").read_text()
        url = line.split()[1] + "/validate"
        workers = children(proc.pid)
        assert len(workers) == 1
        port = int(line.split()[1].rsplit(":", 1)[1])
        assert listening_sockets(port) == 2  # READY: every worker already accepts
        ctx = ssl.create_default_context(cadata=ca.cert_pem.decode())
        for _ in range(20):
            request = urllib.request.Request(
                url, data=json.dumps(REVIEW).encode(), headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, context=ctx, timeout=10) as resp:
                assert json.loads(resp.read())["response"]["uid"] == "u-1"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        assert not any(
            Path(f"/proc/{w}").exists() and "zombie" not in Path(f"/proc/{w}/status").read_text()
            for w in workers
        )
    finally:
        if proc.poll() is None:
            proc.kill()


def test_workers_with_self_signed_is_refused() -> None:
    proc = subprocess.run(
        [EXE, "webhook", "--self-signed", "--workers=2"], capture_output=True, text=True, timeout=60
    )
    assert (
        proc.returncode == 2 and "mint its own CA" in proc.stderr and "Traceback" not in proc.stderr
    )
