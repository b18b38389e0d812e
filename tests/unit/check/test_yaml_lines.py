"""The fast line reader gives exactly what libyaml's path gives: the same documents, indexes,
lines (of every field), values, duplicate paths and problems, on the corpus, the examples,
hand-picked YAML and generated streams (valid and not)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.check import inputs
from shared.check.yaml_lines import NotPlain, Reader, split_stream

ROOT = Path(__file__).resolve().parents[3]
FILES = sorted([*(ROOT / "tests" / "corpus").rglob("*.yaml"), *(ROOT / "examples").rglob("*.yaml")])
HAND = [
    "a: 1\n---\nb: 2\n",
    "# only a comment\n---\na: 1\n",
    "---\n---\na: 1\n---\n",
    "--- # c\na: 1\n--- x\n",
    "a: [yes, no, on, off, ~, null, 0x1F, 017, 1_000, 1e3, .inf, -.Inf, .nan, 190:20:30]\n",
    "a: 2001-12-14t21:59:43.10-05:00\nb: '2002-12-14'\nc: \"x\"\n",
    "a: {b: gs://x/y, c: 'it''s', d: \"q\"}\nl: [a b, -1, \"x\", 'y']\ne: []\nf: {}\n",
    "env:\n- name: a\n  value: b\n- name: c\nnext: 1\n",
    "a:\n  - 1\n  -\n    b: 2\n  - - 3\n",
    "a: b: c\n",
    "a: 1\n  b: 2\n",
    "a:\n  b: 1\n c: 2\n",
    "- a\n  - b\n",
    "a: &x 1\nb: *x\n",
    "a: |\n  text\n",
    "a: 1\na: 2\nb: {c: 1, c: 2}\n",
    "a: 'unterminated\n---\nb: 1\n",
    "a: [1, 2\n---\nb: 1\n",
    "a: 1 # comment\nb: x#y\nc: x #y\nd: -x\ne: --x=1\n",
    "a: b, c [d] {e}\nf: a:b\ng: 'x' y\n",
    "%YAML 1.1\n---\na: 1\n",
    "a: 1\n...\n---\nb: 2\n",
    "a:\tb\n",
    "a: 1\r\nb: 2\r\n",
    "  a: 1\n  b: 2\n",
    "  a: 1\nb: 2\n",
    "'k': 1\n\"k2\": 2\n3: x\ntrue: y\n1.5: z\n",
    "? a\n: b\n",
    "<<: {a: 1}\n",
    "a: =\nb: <<\n",
    "- 1\n- [2, 3]\n- {a: b}\n",
    "kind: List\napiVersion: v1\nitems:\n- kind: A\n  apiVersion: v1\n- kind: B\n  apiVersion: v1\n",
    "a: \u00e9t\u00e9\nb: \u2028x\n",
    "a: 1\n---\n  - x\n---\n\n# c\n",
    "a: b\n- c\n",
    "- a\nb: c\n",
    "x" * 1100 + ": 1\n",
    "\u00e9" * 400 + ": 1\n",
    "a: 1\n---\nb: " + "x" * 250_000 + "\nc: [1, 2]\n---\nd: 2\n",  # over MAX_SEGMENT_CHARS
    "'" + "\u00e9" * 600 + "': 1\n",
]


def _settings(examples: int) -> Any:
    """Reproducible runs: derandomized, no example database."""
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


def _paths(value: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for key, child in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            yield path
            yield from _paths(child, path)
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield f"{prefix}[{i}]"
            yield from _paths(child, f"{prefix}[{i}]")


def _view(item: inputs.Document | inputs.Problem) -> Any:
    if isinstance(item, inputs.Problem):
        return item
    lines = {p: item.line_of(p) for p in _paths(item.obj)}
    return (item.file, item.index, item.line, repr(item.obj), item.duplicates, lines)


def assert_same(text: str) -> None:
    fast = [_view(i) for i in inputs.parse_documents("x.yaml", text)]
    # read again: document shapes seen before are then built by their compiled builders
    assert [_view(i) for i in inputs.parse_documents("x.yaml", text)] == fast
    if text.strip().startswith(("{", "[")):  # read as JSON, by both
        return
    slow = [_view(i) for i in inputs._libyaml_documents("x.yaml", text)]
    assert fast == slow


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_files_read_the_same(path: Path) -> None:
    text = inputs.read_text(str(path))
    if isinstance(text, str):
        assert_same(text)


@pytest.mark.parametrize("text", HAND, ids=[f"hand{i}" for i in range(len(HAND))])
def test_hand_picked_yaml_reads_the_same(text: str) -> None:
    assert_same(text)


def _read_all(reader: Reader, text: str) -> list[Any]:
    """Every document's value, read by ``reader`` alone (no libyaml)."""
    split = split_stream(text)
    assert split is not None
    lines, segments = split
    return [reader.read(lines, s)[0] for s in segments]


def test_typical_manifests_take_the_fast_path() -> None:
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_engine import TYPICAL

    text = "---\n".join(TYPICAL.format(i=i) for i in range(3))
    reader = Reader()
    values = _read_all(reader, text)
    assert values == list(yaml.safe_load_all(text))
    assert reader._builders == 1  # the second document's shape was compiled


def test_compiled_shapes_keep_key_types_and_fresh_values() -> None:
    """Lines equal as Python values but not as YAML (1, true and 1.0) are different
    shapes; flow collections are fresh objects in every document."""
    text = "---\n".join(
        ["1: a\nl: [x]\n", "true: a\nl: [x]\n", "1.0: a\nl: [x]\n", "0x1: a\nl: [x]\n"] * 3
    )
    reader = Reader()
    values = _read_all(reader, text)
    assert repr(values) == repr(list(yaml.safe_load_all(text)))
    assert values[0]["l"] is not values[4]["l"] and values[4]["l"] is not values[8]["l"]


def test_what_the_reader_leaves_to_libyaml() -> None:
    reader = Reader()
    for text in ("a: &x 1\n", "a: !!str 1\n", "a: |\n  x\n", "a: 1\na: 2\n", "a: b: c\n"):
        split = split_stream(text)
        assert split is not None
        with pytest.raises(NotPlain):
            reader.read(split[0], split[1][0])
    for text in ("a:\tb\n", "a: 1\r\n", "%YAML 1.1\n---\na: 1\n", "a: 1\n...\n"):
        assert split_stream(text) is None


# Generated streams: lines put together from pieces that are each plain, tricky or invalid.
_KEYS = st.sampled_from(
    ["a", "b", "name", "app.kubernetes.io/x", "'q k'", '"d"', "1", "true", "~", "a b", "-k", "<<"]
)
_SCALARS = st.sampled_from(
    [
        "x",
        "yes",
        "No",
        "on",
        "~",
        "null",
        "0x1F",
        "017",
        "1_000",
        "-12",
        "+3",
        "1e3",
        "1.5",
        ".inf",
        ".NaN",
        "190:20:30",
        "2002-12-14",
        "gs://a/b",
        "a b",
        "a:b",
        "a: b",
        "a #c",
        "a#c",
        "'s'",
        "'it''s'",
        '"d"',
        '"e\\n"',
        "'",
        '"',
        "-",
        "--x",
        "-1",
        "&a x",
        "*a",
        "!!str 1",
        "|",
        ">",
        "[]",
        "{}",
        "[a, b]",
        "[a, [b]]",
        "[a,]",
        "{a: b}",
        "{a: b, a: c}",
        "{a: gs://x}",
        "{a}",
        "[a: b]",
        "@x",
        "`x",
        "%x",
        "?x",
        ",x",
        "x,",
        "é",
        "",
    ]
)
_LINE = st.one_of(
    st.tuples(_KEYS, _SCALARS).map(lambda kv: f"{kv[0]}: {kv[1]}".rstrip()),
    _KEYS.map(lambda k: f"{k}:"),
    _SCALARS.map(lambda v: f"- {v}".rstrip()),
    st.tuples(_KEYS, _SCALARS).map(lambda kv: f"- {kv[0]}: {kv[1]}".rstrip()),
    st.just("-"),
    st.just("# comment"),
    st.just(""),
    st.just("---"),
    st.just("--- # c"),
    st.just("- - x"),
    _SCALARS,
)
_INDENTED = st.tuples(st.integers(0, 6), _LINE).map(lambda il: " " * il[0] + il[1])


@_settings(600)
@given(st.lists(_INDENTED, min_size=1, max_size=14))
def test_generated_line_soup_reads_the_same(lines: list[str]) -> None:
    assert_same("\n".join(lines) + "\n")


_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12),
    st.sampled_from(["yes", "0x1F", "1_000", "2002-12-14", "a: b", "#", "- x", "~", ""]),
)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    keys = st.one_of(st.text(max_size=6), st.integers(0, 9))
    return st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4))


_VALUES = st.recursive(_LEAF, _containers, max_leaves=20)


@_settings(400)
@given(
    st.lists(_VALUES, min_size=1, max_size=3),
    st.integers(2, 4),
    st.sampled_from([False, None]),
)
def test_generated_documents_read_the_same(
    values: list[Any], indent: int, flow: bool | None
) -> None:
    text = yaml.safe_dump_all(
        values, indent=indent, default_flow_style=flow, allow_unicode=True, sort_keys=False
    )
    assert_same(text)


_PLAIN_KEYS = st.sampled_from(
    ["a", "b", "c", "d", "e", "f", "name", "x.io/y", "'q k'", '"d k"', "1", "true", "n_2", "$x"]
)
_PLAIN_SCALARS = st.sampled_from(
    [
        "x",
        "yes",
        "~",
        "0x1F",
        "1e3",
        "-1",
        "a b",
        "gs://a/b",
        "'it''s'",
        '"d"',
        "[a, 'b']",
        "{a: b, c: gs://x}",
        "[]",
        "{}",
        "x # c",
        "a#b",
        "é",
        "",
    ]
)
# mostly what the reader reads, sometimes anything
_SOME_KEYS = st.integers(0, 30).flatmap(lambda n: _KEYS if n == 0 else _PLAIN_KEYS)
_SOME_SCALARS = st.integers(0, 30).flatmap(lambda n: _SCALARS if n == 0 else _PLAIN_SCALARS)


@st.composite
def _block_yaml(draw: st.DrawFn, depth: int = 0, indent: int = 0) -> list[str]:
    """Block YAML in the reader's part of the language (mostly): nested mappings and
    sequences with varied indentation, compact and indentless sequences, comments."""
    pad = " " * indent
    lines: list[str] = []
    as_list = draw(st.booleans())
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.integers(0, 9)) == 0:
            lines.append(" " * draw(st.integers(0, 8)) + draw(st.sampled_from(["# c", ""])))
        nested = depth < 3 and draw(st.integers(0, 2)) == 0
        key = draw(_SOME_KEYS)
        if not nested:
            leaf = draw(_SOME_SCALARS)
            lines.append(f"{pad}- {leaf}".rstrip() if as_list else f"{pad}{key}: {leaf}".rstrip())
            continue
        step = draw(st.integers(0 if not as_list else 1, 4))
        child = draw(_block_yaml(depth + 1, indent + step))
        if as_list and draw(st.booleans()) and child and not child[0].lstrip().startswith("#"):
            # "- key: value" with the rest of the mapping at the key's column
            first = child[0].lstrip(" ")
            lines.append(f"{pad}-{' ' * max(step - 1, 1)}{first}")
            lines.extend(child[1:])
        else:
            lines.append(f"{pad}-" if as_list else f"{pad}{key}:")
            lines.extend(child)
    return lines


@_settings(1500)
@given(st.lists(_block_yaml(), min_size=1, max_size=3), st.sampled_from(["---\n", "--- # x\n"]))
def test_generated_block_yaml_reads_the_same(documents: list[list[str]], marker: str) -> None:
    assert_same(marker.join("\n".join(lines) + "\n" for lines in documents))


def test_long_documents_are_read_line_by_line_every_time() -> None:
    """Shapes are remembered only for documents of up to 500 lines (bounded memory)."""
    doc = "".join(f"k{i}: v{i}\n" for i in range(600))
    text = "---\n".join([doc] * 3)
    reader = Reader()
    values = _read_all(reader, text)
    assert values == list(yaml.safe_load_all(text))
    assert reader._builders == 0 and not reader._shapes
