"""`demo` stops every server it started, on failure, Ctrl-C and SIGTERM, with ``--keep`` too
(issue 15 item 8): the servers run in their own sessions, so nothing else would."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

EXE = Path(sys.executable).parent / "kagent-substrate"


def _processes_using(workdir: Path) -> list[int]:
    """Pids whose command line names ``workdir`` (every server of that stack does)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(workdir) in cmdline:
            found.append(int(entry.name))
    return found


def _wait_until_gone(workdir: Path, timeout: float = 60) -> list[int]:
    deadline = time.monotonic() + timeout
    left = _processes_using(workdir)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = _processes_using(workdir)
    return left


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "demo-stack"
    yield folder
    for pid in _processes_using(folder):  # whatever a failing case left: ours, by pid
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _demo(workdir: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(EXE), "demo", "--keep", "--workdir", str(workdir), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _read_until(proc: subprocess.Popen[str], marker: str, timeout: float = 120) -> str:
    assert proc.stdout is not None
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen += line
        if marker in line:
            return seen
    raise AssertionError(f"{marker!r} not printed; output:\n{seen}")


def test_keep_stops_everything_when_the_demo_fails(workdir: Path) -> None:
    proc = _demo(workdir, "--timeout", "0")  # the first wait (for Ready) fails at once
    out, _ = proc.communicate(timeout=180)
    assert proc.returncode == 1, out
    assert "Traceback" not in out
    assert _wait_until_gone(workdir) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_keep_stops_everything_on_a_signal(workdir: Path, sig: signal.Signals) -> None:
    proc = _demo(workdir)
    _read_until(proc, "controller ready")
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=120)
    assert "Traceback" not in out
    assert proc.returncode != 0 or sig == signal.SIGINT
    assert _wait_until_gone(workdir) == []


def test_the_urls_the_demo_prints_answer_while_it_runs(workdir: Path) -> None:
    """The substrate's debug URL (on its ready line and in the --keep notes) answers 200 with
    the actor table, as do the metrics and health URLs; ready lines show no made-up labels."""
    proc = _demo(workdir)
    try:
        out = _read_until(proc, "Stop it with Ctrl-C", timeout=300)
        assert "arg0=" not in out
        urls = re.findall(r"\b(debug|metrics|health)=(http://\S+)", out)
        state = re.search(r"Substrate state: (http://\S+)", out)
        assert state is not None, out
        assert ("debug", state.group(1)) in urls
        assert [w for w, _ in urls].count("metrics") == 2, out  # webhook and controller
        for what, url in urls:
            with urllib.request.urlopen(url, timeout=10) as resp:
                assert resp.status == 200, (what, url)
                body = resp.read().decode()
            if what == "debug":
                assert "asr-demo-hello-agent-demo-session-1" in body, body[:500]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=120)
    assert _wait_until_gone(workdir) == []
