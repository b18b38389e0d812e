"""The controller benchmark's short version (CI): a few harnesses, a short quiet window."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_controller_short_run_meets_the_write_and_cleanup_goals(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_controller.py"),
            "--count",
            "30",
            "--window",
            "4",
            "--timeout",
            "120",
            "--workdir",
            str(tmp_path / "stack"),
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "apply -> all Ready" in proc.stdout
    figures = json.loads(out.read_text())
    assert figures["writes_per_harness"] <= 6
    assert figures["steady_writes"] == 0
    assert figures["leftover_actors"] == 0 and figures["leftover_harnesses"] == 0
    assert all(v > 0 for v in figures["peak_rss_mb"].values())
