"""Controller scale (issue 10 part 1): `bench_controller.py` with 1,000 harnesses and a 60 s quiet
window by default. Same flags, same table.

Goals: 1,000 harnesses Ready <= 60 s with fast simulator timings; <= 6 writes per harness;
0 writes in the 60 s after convergence; every actor and golden actor gone after deletion.

    .venv/bin/python benchmarks/bench_scale.py [--count 1000] [--window 60] [--json out.json]

``--compare --baseline REV`` instead runs 1,000 harnesses + 200 SandboxAgents (with Secrets)
twice, REV's controller then this tree's, and prints watches, API requests and peak RSS side
by side (`scale_compare.py`).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_controller import main

if __name__ == "__main__":
    if "--compare" in sys.argv[1:]:
        from benchmarks.scale_compare import main as compare

        sys.exit(compare([a for a in sys.argv[1:] if a != "--compare"]))
    sys.exit(main(count=1000, window=60.0, prog="bench_scale.py"))
