"""CI integrations (issue 16 item 6): pre-commit hooks, the GitHub Action and shell completion
name commands and flags that exist, and the completion script completes them."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kagent_substrate.cli import COMMANDS
from shared.check.cli import build_parser as check_parser

ROOT = Path(__file__).resolve().parents[2]
EXE = str(Path(sys.executable).with_name("kagent-substrate"))


def _flags() -> set[str]:
    return {s for a in check_parser()._actions for s in a.option_strings}


def test_pre_commit_hooks_run_real_commands() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert {h["id"] for h in hooks} == {"kagent-substrate-check", "kagent-substrate-test"}
    for hook in hooks:
        program, command = shlex.split(hook["entry"])[:2]
        assert program == "kagent-substrate" and command in COMMANDS
        assert hook["language"] == "python"


def test_action_runs_check_with_existing_flags() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    scripts = "\n".join(s.get("run", "") for s in action["runs"]["steps"])
    assert (
        "kagent-substrate check -o sarif" in scripts
        and "kagent-substrate check -o github" in scripts
    )
    assert "${{" not in scripts  # inputs reach the shell through env, never interpolated
    uploads = [s for s in action["runs"]["steps"] if "upload-sarif" in s.get("uses", "")]
    assert uploads and uploads[0]["with"]["sarif_file"] == "kagent-substrate.sarif"
    assert {"-o", "--output"} <= _flags()


def _complete(script: str, words: list[str]) -> list[str]:
    program = (
        f"{script}\nCOMP_WORDS=({' '.join(shlex.quote(w) for w in words)}); "
        f"COMP_CWORD={len(words) - 1}; _kagent_substrate; printf '%s\\n' \"${{COMPREPLY[@]}}\""
    )
    out = subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=True)
    return out.stdout.split()


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["kagent-substrate", "ch"], ["check"]),
        (["kagent-substrate", "check", "--field"], ["--field-validation"]),
        (["kagent-substrate", "check", "-o", "s"], ["sarif"]),
        (["kagent-substrate", "check", "--field-validation", "W"], ["Warn"]),
        (["kagent-substrate", "test", "-o", ""], ["junit", "text"]),
    ],
)
def test_bash_completion(words: list[str], expected: list[str]) -> None:
    script = subprocess.run(
        [EXE, "completion", "bash"], capture_output=True, text=True, check=True
    ).stdout
    assert sorted(_complete(script, words)) == expected


def test_completion_usage() -> None:
    proc = subprocess.run([EXE, "completion", "fish"], capture_output=True, text=True)
    assert proc.returncode == 2 and "bash|zsh" in proc.stderr
