"""Build step: copy the CRDs and examples into the package (see shared/bundled.py).

The single source stays charts/kagent-substrate/crds/ and examples/; the wheel carries copies
under shared/bundled_data/ so an installed package finds them from any directory. The sdist
carries the sources (MANIFEST.in), so a wheel built from it makes the same copies.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SOURCES = {"crds": "charts/kagent-substrate/crds", "examples": "examples"}


class BuildPyWithBundle(build_py):
    """build_py that also copies the bundled files into the built ``shared`` package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the sources in place
        target = Path(self.build_lib) / "shared" / "bundled_data"
        for name, source in SOURCES.items():
            if not (ROOT / source).is_dir():
                raise SystemExit(f"setup.py: {source}/ is missing; the package must carry it")
            dest = target / name
            if dest.exists():
                shutil.rmtree(dest)
            for path in sorted((ROOT / source).rglob("*")):
                if path.is_file() and path.suffix in (".yaml", ".yml", ".json", ".md"):
                    out = dest / path.relative_to(ROOT / source)
                    out.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, out)


setup(cmdclass={"build_py": BuildPyWithBundle})
