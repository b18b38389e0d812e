"""Where the files that ship with the distribution are found: the CRDs (the rule source) and
the examples the demo applies.

The single source of the CRDs is ``charts/kagent-substrate/crds/`` (and of the examples,
``examples/``). A source checkout or an editable install reads them there; the wheel and the
sdist carry copies that the build makes (``setup.py``) under ``shared/bundled_data/``, so an
installed package finds its rules from any directory. ``tests/packaging`` proves the copies
equal the sources.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

_PACKAGE_DIR: Final = Path(__file__).resolve().parent
_SOURCE_ROOT: Final = _PACKAGE_DIR.parent
BUNDLE_DIR: Final = _PACKAGE_DIR / "bundled_data"
"""Where the build puts the copies inside the installed ``shared`` package."""

#: bundle subfolder -> source folder, relative to the repository root (read by setup.py too)
SOURCES: Final = {"crds": "charts/kagent-substrate/crds", "examples": "examples"}


def _find(name: str) -> Path | None:
    source = _SOURCE_ROOT / SOURCES[name]
    if source.is_dir() and (_SOURCE_ROOT / "pyproject.toml").is_file():
        return source  # a checkout or an editable install: the single source
    bundled = BUNDLE_DIR / name
    return bundled if bundled.is_dir() else None


def crd_dir() -> Path:
    """The built-in CRD folder; a path that does not exist if the build left them out."""
    return _find("crds") or BUNDLE_DIR / "crds"


def examples_dir() -> Path | None:
    """The examples the demo applies, or None when this installation has none."""
    return _find("examples")
