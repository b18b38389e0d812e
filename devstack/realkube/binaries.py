"""Where the real control plane's binaries are: built once by ``build.sh`` into a cache outside
the repo, keyed by version."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

KUBE_VERSION = "v1.37.2"
ETCD_VERSION = "v3.7.3"
NAMES = ("etcd", "kube-apiserver", "kube-controller-manager")
BUILD_SCRIPT = Path(__file__).resolve().parent / "build.sh"


class BinariesMissing(RuntimeError):
    """The binaries are not built; the message says how to build them."""


def cache_dir() -> Path:
    """``$KAGENT_REALKUBE_CACHE`` or ``$XDG_CACHE_HOME/kagent-substrate`` (``~/.cache``)."""
    explicit = os.environ.get("KAGENT_REALKUBE_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kagent-substrate"


def bin_dir() -> Path:
    """The folder holding this version's three binaries."""
    return cache_dir() / f"kube-{KUBE_VERSION}-etcd-{ETCD_VERSION}"


def find() -> Path:
    """The binaries' folder; raises `BinariesMissing` naming the build command."""
    folder = bin_dir()
    missing = [n for n in NAMES if not os.access(folder / n, os.X_OK)]
    if missing:
        raise BinariesMissing(
            f"real Kubernetes binaries missing in {folder} ({', '.join(missing)}): "
            "build them with 'make realkube' in a checkout (needs Go >= 1.26 and the Go module "
            "proxy; a cold build takes about 30 min on 2 cores)"
        )
    return folder


def build() -> Path:
    """Run ``build.sh`` (a no-op when the cache is current) and return the binaries' folder."""
    if not BUILD_SCRIPT.exists():
        raise BinariesMissing(
            f"{BUILD_SCRIPT} is not here: build from a checkout with 'make realkube'"
        )
    out = subprocess.run(["bash", str(BUILD_SCRIPT)], stdout=subprocess.PIPE, text=True, check=True)
    return Path(out.stdout.strip().splitlines()[-1])
