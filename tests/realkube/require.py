"""Whether the real control plane's binaries are here: skip with the build command when not,
fail instead under ``CI`` or ``KAGENT_REQUIRE_REALKUBE=1`` (so CI never passes by skipping)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devstack.realkube import binaries


def bin_dir_or_skip() -> Path:
    """The binaries' folder, or skip (fail under CI) saying how to build them."""
    try:
        return binaries.find()
    except binaries.BinariesMissing as exc:
        if os.environ.get("CI") or os.environ.get("KAGENT_REQUIRE_REALKUBE"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))
