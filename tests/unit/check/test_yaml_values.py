"""The fast value builder gives exactly PyYAML's values (with timestamps kept as strings) and
the same refusals, on every corpus case, every example and tricky YAML 1.1 scalars."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.check import inputs
from shared.check.yaml_values import Builder, TooBig, Unusual

ROOT = Path(__file__).resolve().parents[3]
FILES = sorted([*(ROOT / "tests" / "corpus").glob("*.yaml"), *(ROOT / "examples").rglob("*.yaml")])
TRICKY = [
    "a: [yes, no, on, off, Yes, NO, true, False, y, n]",
    "a: [0x1F, 0o17, 017, 1_000, -12, +3, 0b101, 190:20:30, 1e3, 1.5e-3, .inf, -.Inf, .nan]",
    "a: [~, null, Null, '', \"\", 'yes', \"0x1F\"]",
    "a: [2001-12-14t21:59:43.10-05:00, 2002-12-14, '2002-12-14']",
    "a: &x {b: 1}\nc: *x\nd: [*x, *x]",
    "a: !!str 5\nb: !!int '7'",
    "a: {<<: {b: 1}, c: 2}",
    "a: !!binary aGVsbG8=",
    "a: !!set {x, y}",
    "a: |\n  literal\n  block\nb: >\n  folded\n  text\n",
    "'quoted key': 1\n\"other\": 2\n3: int key\ntrue: bool key",
    "a: 1\na: 2\nb: {c: 1, c: 3}\nl: [{x: 1, x: 2}]",
    "- 1\n- [2, [3, [4]]]\n",
]


def _pyyaml(node: yaml.Node) -> Any:
    loader = inputs._Loader("")
    return loader.construct_document(node)


def _cases() -> list[str]:
    return [p.read_text() for p in FILES] + TRICKY


@pytest.mark.parametrize(
    "text", _cases(), ids=[p.name for p in FILES] + [f"tricky{i}" for i in range(len(TRICKY))]
)
def test_same_values_as_pyyaml(text: str) -> None:
    builder = Builder(inputs.MAX_DEPTH, inputs.MAX_EXPANDED_NODES)
    for node in yaml.compose_all(text, Loader=inputs._Loader):
        expected = _pyyaml(node)
        try:
            value, duplicates = builder.build(node)
        except Unusual:
            continue  # left to PyYAML's constructor: nothing to compare
        assert repr(value) == repr(expected)  # repr: nan != nan, and 1 == True
        assert duplicates == inputs.duplicate_paths(node)


def test_unusual_yaml_is_left_to_pyyaml() -> None:
    builder = Builder(inputs.MAX_DEPTH, inputs.MAX_EXPANDED_NODES)
    for text in ("a: !!binary aGVsbG8=", "a: {<<: {b: 1}}", "? [k]\n: v", "a: !!set {x}"):
        with pytest.raises(Unusual):
            builder.build(yaml.compose(text, Loader=inputs._Loader))
    # and parse_documents still reads them through PyYAML's constructor
    (doc,) = inputs.parse_documents(
        "x.yaml", "apiVersion: v1\nkind: ConfigMap\nb: !!binary aGVsbG8=\n"
    )
    assert isinstance(doc, inputs.Document) and doc.obj["b"] == b"hello"


def test_limits_are_the_same() -> None:
    builder = Builder(3, 100)
    with pytest.raises(TooBig, match="line 1"):
        builder.build(yaml.compose("a: {b: {c: {d: 1}}}", Loader=inputs._Loader))
    with pytest.raises(TooBig, match="excessive aliasing"):
        builder.build(
            yaml.compose(
                "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nb: [" + "*a, " * 20 + "*a]",
                Loader=inputs._Loader,
            )
        )
