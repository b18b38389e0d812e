"""`kagent-substrate demo`: the main job on the embedded default.

Until the local stack is complete this runs the policy check over `examples/`, showing the
verdict a cluster would give each manifest.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from shared.check import cli as check_cli

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def main(argv: Sequence[str]) -> int:
    """Run the demo; exit 0 when it completed (denied examples are expected)."""
    code = check_cli.main([str(EXAMPLES), *argv])
    # Some examples are invalid on purpose: a denial (1) is the demo working.
    return 0 if code in (0, 1) else code
