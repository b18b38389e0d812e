"""Inputs of `check`: files, directories and stdin -> documents that remember their lines.

Plain block YAML (most manifests) is read by `yaml_lines`, fast; any other document is parsed
with libyaml (the C loader) into nodes that carry marks, then constructed into plain JSON-like
values the way Kubernetes reads YAML (timestamps stay strings). Both give the same values; the
node tree of a fast document is built only when a finding needs its lines. Hostile input
is refused with a clear message instead of a crash: documents over the API server's 3 MiB
request limit, nesting deeper than the API server's 10,000 levels (`shared.nesting`), alias
bombs. A key given twice keeps its last value, as the API server's decoder does; the paths of
such duplicate fields travel with the document so the engine reports them per
``--field-validation`` (an error under Strict, kubectl's default).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

import yaml

from shared.check.yaml_lines import NotPlain, Reader, Segment, split_stream
from shared.check.yaml_values import Builder, TooBig, Unusual
from shared.nesting import MAX_NESTING, TOO_DEEP_TEXT, depth_exceeds

MAX_DOCUMENT_BYTES: Final = 3 * 1024 * 1024
MAX_DEPTH: Final = MAX_NESTING
MAX_EXPANDED_NODES: Final = 200_000
SUFFIXES: Final = (".yaml", ".yml", ".json")
STDIN: Final = "<stdin>"

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_RESOLVED: dict[tuple[Any, Any, Any], str] = {}
_RESOLVED_LIMIT: Final = 100_000


class _Loader(_Base):  # type: ignore[misc,valid-type]
    """libyaml's safe loader, with timestamps kept as strings (as sigs.k8s.io/yaml does).

    libyaml's composer asks the (Python) resolver for the tag of every node; the answer depends
    only on the arguments, so it is remembered (keys and many values repeat across documents).
    """

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        key = (kind, value, implicit)
        try:
            return _RESOLVED[key]
        except KeyError:
            tag: str = super().resolve(kind, value, implicit)
            if len(_RESOLVED) < _RESOLVED_LIMIT:
                _RESOLVED[key] = tag
            return tag


class _DeepLoader(yaml.SafeLoader):
    """The pure-Python loader, for documents nested deeper than libyaml's 1,000 levels."""


def _timestamp_as_string(loader: yaml.SafeLoader, node: Any) -> Any:
    return loader.construct_scalar(node)


for _cls in (_Loader, _DeepLoader):
    _cls.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_string)
_LIBYAML_TOO_DEEP: Final = "exceeded maximum nesting depth"


@dataclass(frozen=True, slots=True)
class Document:
    """One Kubernetes object from an input, with what is needed to find lines again."""

    file: str
    index: int
    line: int
    obj: Any
    node: yaml.Node | None
    """The YAML node tree, for lines; None until `line_of` needs it (then built from
    ``source``)."""
    duplicates: tuple[str, ...] = ()
    """Paths of fields given twice (the last value was kept), e.g. ``spec.backend``."""
    shares_values: bool = True
    """Whether parts of ``obj`` may be the same Python object (YAML aliases): then whoever
    changes it in place must copy it first."""
    source: str = ""
    """The document's text, when ``node`` is None."""
    line_offset: int = 0
    """Lines of the stream before the text the node tree was built from."""

    def line_of(self, path: str) -> int:
        """The 1-based line of a field path like ``spec.channels[1].name`` (or its parent)."""
        node = self.node
        if node is None:
            node = _compose(self.source)
            if node is None:  # pragma: no cover - the fast reader read it, so libyaml can
                return self.line
            object.__setattr__(self, "node", node)
        offset = self.line_offset
        return line_of(node, path, self.line - offset) + offset


@dataclass(frozen=True, slots=True)
class Problem:
    """Input that cannot be checked: unreadable, not YAML, not an object, too large."""

    file: str
    index: int | None
    line: int | None
    message: str


def iter_paths(paths: list[str]) -> Iterator[str | Problem]:
    """Expand arguments: files as given, directories recursively, ``-`` for stdin."""
    for raw in paths:
        if raw == "-":
            yield "-"
            continue
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                str(p) for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
            )
            if not found:
                yield Problem(raw, None, None, "no *.yaml, *.yml or *.json files in this directory")
            yield from found
        elif path.is_file():
            yield raw
        elif path.exists():
            yield Problem(raw, None, None, "not a regular file or directory")
        else:
            yield Problem(raw, None, None, "no such file or directory")


def read_text(path: str, stdin: BinaryIO | None = None) -> str | Problem:
    """Read a file (or stdin for ``-``) as UTF-8 text."""
    name = STDIN if path == "-" else path
    try:
        if path == "-":
            data = (stdin or sys.stdin.buffer).read()
        else:
            data = Path(path).read_bytes()
    except OSError as exc:
        return Problem(name, None, None, f"cannot read: {exc.strerror or exc}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return Problem(name, None, None, f"not UTF-8 text (byte {exc.start})")


_C1: Final = re.compile("[\x7f-\x9f]")


def _escape_c1(text: str) -> str:
    """JSON allows raw U+007F-U+009F inside strings (kubectl sends them); YAML 1.1 refuses
    them and reads U+0085 as a line break. In JSON they can only stand inside strings, so
    ``\\u00XX`` escapes keep the meaning and the line numbers."""
    return _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _json_document(name: str, text: str) -> Iterator[Document | Problem]:
    """One JSON document: values from the JSON parser (YAML 1.1 would read ``1e-09`` as a
    string), lines from the YAML node tree of the same text."""
    if len(text.encode("utf-8")) > MAX_DOCUMENT_BYTES:
        yield Problem(
            name,
            0,
            1,
            "document is larger than 3 MiB; the Kubernetes API server accepts at most 3 MiB per object",
        )
        return
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        yield Problem(
            name, 0, exc.lineno, f"invalid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})"
        )
        return
    except RecursionError:
        yield Problem(name, 0, 1, f"document is {TOO_DEEP_TEXT}")
        return
    if depth_exceeds(data):
        yield Problem(name, 0, 1, f"document is {TOO_DEEP_TEXT}")
        return
    node = _compose(_escape_c1(text))
    if node is None:  # YAML refuses some valid JSON (an escaped lone surrogate): no lines
        mark = yaml.Mark(name, 0, 0, 0, None, 0)
        node = yaml.ScalarNode("tag:yaml.org,2002:str", "", mark, mark)
    problem = _limits(node, 0)
    if problem is not None:
        yield Problem(name, 0, node.start_mark.line + 1 if node.start_mark else 1, problem)
        return
    yield from _objects(name, 0, 1, data, node, 0, None, False)


def _compose(text: str) -> yaml.Node | None:
    """The node tree of one document (for lines), or None when YAML cannot read it."""
    for loader in (_Loader, _DeepLoader):
        try:
            node: yaml.Node | None = yaml.compose(text, Loader=loader)
            return node
        except yaml.YAMLError as exc:
            if _LIBYAML_TOO_DEEP not in str(exc):
                return None
    return None


def parse_documents(name: str, text: str) -> Iterator[Document | Problem]:
    """Parse a YAML stream or a JSON document; ``kind: List`` items become documents."""
    yield from stream_documents(cut(name, text))


@dataclass(frozen=True, slots=True)
class Stream:
    """One input's text, cut into its documents when the fast reader may read them."""

    name: str
    text: str
    lines: list[str] | None
    """The text's lines; None: read whole (JSON, or YAML only libyaml reads)."""
    segments: list[Segment]
    first_is_empty: bool
    """Whether the text before the first ``---`` holds only comments (not a document)."""
    is_json: bool = False

    def index_of(self, segment: int) -> int:
        """The document index of a segment."""
        return segment - 1 if segment and self.first_is_empty else segment


def cut(name: str, text: str) -> Stream:
    """An input's text with its documents found (`stream_documents` reads them)."""
    if text.lstrip()[:1] in ("{", "["):  # JSON, whatever the file's name
        return Stream(name, text, None, [], False, is_json=True)
    split = split_stream(text)
    if split is None:
        return Stream(name, text, None, [], False)
    lines, segments = split
    first = segments[0] if segments else None
    empty = first is not None and not first.explicit and not _has_content(lines, first)
    return Stream(name, text, lines, segments, empty)


def stream_documents(
    stream: Stream, first: int = 0, stop: int | None = None
) -> Generator[Document | Problem, None, bool]:
    """Documents of segments ``first``…``stop`` of a stream (all of a stream read whole).
    Returns True when it read the rest of the stream instead (libyaml found an error in a
    document: the stream is then read as libyaml reads it, up to that error)."""
    name, text, lines = stream.name, stream.text, stream.lines
    if lines is None:
        if stream.is_json:
            yield from _json_document(name, text)
        else:
            yield from _libyaml_documents(name, text)
        return True
    index = stream.index_of(first)
    for segment in stream.segments[first:stop]:
        try:
            value, start = _READER.read(lines, segment)
        except NotPlain:
            source = "\n".join(lines[segment.start : segment.end])
            try:  # this document alone, with its lines in place
                items = list(_libyaml_documents(name, source, index, segment.start, True))
            except _StreamError:  # as libyaml reads the whole stream from here, error included
                yield from _libyaml_documents(name, text, index, skip=True)
                return True
            yield from items
            index += 1 if segment.explicit or _has_content(lines, segment) else 0
            continue
        if start is not None:
            source = "\n".join(lines[segment.start : segment.end])
            yield from _objects(
                name, index, start + 1, value, None, segment.start, (), False, source
            )
        index += 1 if segment.explicit or start is not None else 0
    return False


def all_documents(inputs: Iterable[Problem | Stream]) -> Iterator[Document | Problem]:
    """Every document of the inputs, in order (problems in their place)."""
    for item in inputs:
        if isinstance(item, Problem):
            yield item
        else:
            yield from stream_documents(item)


_READER: Final = Reader()


def _has_content(lines: list[str], segment: Segment) -> bool:
    """Whether a segment holds more than blank lines and comments (then it is a document)."""
    for raw in lines[segment.start : segment.end]:
        body = raw.lstrip(" ")
        if body and body[0] != "#":
            return True
    return False


class _StreamError(Exception):
    """libyaml found an error in a document read alone."""


def _libyaml_documents(
    name: str,
    text: str,
    first: int = 0,
    line_offset: int = 0,
    raise_errors: bool = False,
    skip: bool = False,
) -> Iterator[Document | Problem]:
    """The documents of a YAML stream read by libyaml, numbered from ``first``; with ``skip``,
    documents before ``first`` are read but not given."""
    start = first if skip else 0
    index_base = 0 if skip else first
    deep_from = yield from _yaml_documents(
        name, text, _Loader, start, index_base, line_offset, raise_errors
    )
    if deep_from is not None:  # libyaml stops at 1,000 levels; the API server reads 10,000
        yield from _yaml_documents(
            name, text, _DeepLoader, deep_from, index_base, line_offset, raise_errors
        )


def _yaml_documents(
    name: str,
    text: str,
    loader_class: type[yaml.SafeLoader],
    start: int,
    index_base: int = 0,
    line_offset: int = 0,
    raise_errors: bool = False,
) -> Generator[Document | Problem, None, int | None]:
    """Documents ``start``… of a YAML stream, numbered from ``index_base`` and with lines
    ``line_offset`` further; returns the index where libyaml gave up on nesting (to go on with
    the pure-Python loader), else None. With ``raise_errors``, a YAML error raises
    `_StreamError` instead of becoming a problem."""
    loader = loader_class(text)
    index = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            assert node is not None  # check_node said there is one
            if index < start:
                index += 1
                continue
            line = node.start_mark.line + 1 + line_offset
            built = _build(loader, node, line_offset) if loader_class is _Loader else None
            fallback = built is None
            if built is None:  # the pure-Python loader, or YAML the fast builder leaves alone
                problem = _limits(node, line_offset)
                built = problem or (loader.construct_document(node), duplicate_paths(node))
            if isinstance(built, str):
                yield Problem(name, index_base + index, line, built)
                index += 1
                continue
            shares = loader_class is not _Loader or _BUILDER.aliased or fallback
            yield from _objects(
                name, index_base + index, line, built[0], node, line_offset, built[1], shares
            )
            index += 1
    except yaml.MarkedYAMLError as exc:
        if loader_class is _Loader and _LIBYAML_TOO_DEEP in str(exc.problem):
            return index
        if raise_errors:
            raise _StreamError from exc
        mark = exc.problem_mark or exc.context_mark
        where = mark.line + 1 + line_offset if mark is not None else None
        what = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        yield Problem(name, index_base + index, where, f"invalid YAML: {what}")
    except yaml.YAMLError as exc:
        if raise_errors:
            raise _StreamError from exc
        yield Problem(name, index_base + index, None, f"invalid YAML: {exc}")
    finally:
        loader.dispose()
    return None


_BUILDER: Final = Builder(MAX_DEPTH, MAX_EXPANDED_NODES)


def _build(
    loader: Any, node: yaml.Node, line_offset: int
) -> tuple[Any, tuple[str, ...]] | str | None:
    """(value, duplicate paths) by the fast builder; a problem text; None to use PyYAML's."""
    size = node.end_mark.index - node.start_mark.index
    if size > MAX_DOCUMENT_BYTES:
        return _limits(node, line_offset)
    try:
        return _BUILDER.build(node)
    except TooBig as exc:
        if exc.line is not None:
            return f"document is {TOO_DEEP_TEXT} (line {exc.line + line_offset})"
        return str(exc)
    except Unusual:
        return None


def _objects(
    name: str,
    index: int,
    line: int,
    data: Any,
    node: yaml.Node | None,
    line_offset: int,
    duplicates: tuple[str, ...] | None = None,
    shares: bool = True,
    source: str = "",
) -> Iterator[Document | Problem]:
    """Documents (or problems) for one parsed value: Kubernetes objects, a List's items.
    ``node`` None: the fast reader read ``source`` (no duplicate keys, no shared values)."""
    if data is None:
        return  # an empty document, as kubectl skips it
    if not isinstance(data, dict):
        yield Problem(
            name,
            index,
            line,
            f"document {index + 1} is {_what(data)}, not a Kubernetes object "
            "(a mapping with apiVersion and kind)",
        )
        return
    if data.get("kind") == "List" and "items" in data and not isinstance(data["items"], list):
        yield Problem(
            name, index, line, f"document {index + 1} is a List whose items is not a list"
        )
        return
    if data.get("kind") == "List" and isinstance(data.get("items"), list):
        if node is None:
            node = _compose(source)
            if node is None:  # pragma: no cover - the fast reader read it, so libyaml can
                raise NotPlain("a List libyaml cannot read")
        items_node = _child(node, "items")
        for i, item in enumerate(data["items"]):
            item_node = _child(items_node, i) if items_node is not None else None
            item_line = item_node.start_mark.line + 1 + line_offset if item_node else line
            yield from _objects(
                name, index, item_line, item, item_node or node, line_offset, None, shares
            )
        return
    missing = [
        k for k in ("apiVersion", "kind") if not isinstance(data.get(k), str) or not data.get(k)
    ]
    if missing:
        yield Problem(
            name,
            index,
            line,
            f"{' and '.join(missing)} must be set to strings (e.g. apiVersion: kagent.dev/v1alpha2, kind: AgentHarness)",
        )
        return
    if duplicates is None:
        duplicates = duplicate_paths(node) if node is not None else ()
    yield Document(name, index, line, data, node, duplicates, shares, source, line_offset)


def _what(data: Any) -> str:
    """``a list``, ``a string``: a YAML value's kind in words (no Python type names)."""
    if isinstance(data, list):
        return "a list"
    if isinstance(data, bool):
        return "a boolean"
    if isinstance(data, int | float):
        return "a number"
    return "a string" if isinstance(data, str) else "a scalar value"


def _limits(root: yaml.Node, line_offset: int) -> str | None:
    """Size, depth and alias-expansion checks, iteratively (no recursion)."""
    size = root.end_mark.index - root.start_mark.index
    if size > MAX_DOCUMENT_BYTES:
        return (
            f"document is {size / 1048576:.1f} MiB; the Kubernetes API server accepts at most 3 MiB "
            "per object; split it or move large data out of the manifest"
        )
    expanded = 0
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        expanded += 1
        if expanded > MAX_EXPANDED_NODES:
            return f"document expands to more than {MAX_EXPANDED_NODES} nodes (excessive aliasing?)"
        if depth > MAX_DEPTH:
            return f"document is {TOO_DEEP_TEXT} (line {node.start_mark.line + 1 + line_offset})"
        if isinstance(node, yaml.MappingNode):
            stack.extend(
                (v, depth + 1) for _, v in node.value if not isinstance(v, yaml.ScalarNode)
            )
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((v, depth + 1) for v in node.value if not isinstance(v, yaml.ScalarNode))
    return None


def duplicate_paths(root: yaml.Node) -> tuple[str, ...]:
    """Paths of keys given twice in a mapping (``spec.backend``), in document order."""
    found: list[tuple[int, str]] = []
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                text = key.value if isinstance(key, yaml.ScalarNode) else "?"
                here = f"{path}.{text}" if path else text
                if text in seen:
                    found.append((key.start_mark.index, here))
                seen.add(text)
                if not isinstance(value, yaml.ScalarNode):
                    stack.append((value, here))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(
                (v, f"{path}[{i}]")
                for i, v in enumerate(node.value)
                if not isinstance(v, yaml.ScalarNode)
            )
    return tuple(p for _, p in sorted(found))


def _child(node: yaml.Node | None, key: str | int) -> yaml.Node | None:
    if isinstance(key, int):
        if isinstance(node, yaml.SequenceNode) and 0 <= key < len(node.value):
            child: yaml.Node = node.value[key]
            return child
        return None
    if isinstance(node, yaml.MappingNode):
        for k, v in reversed(node.value):  # the last of duplicate keys is the value kept
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                found: yaml.Node = v
                return found
    return None


def _key_line(node: yaml.Node, key: str) -> int | None:
    if isinstance(node, yaml.MappingNode):
        for k, _ in reversed(node.value):
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return int(k.start_mark.line) + 1
    return None


def split_path(path: str) -> list[str | int]:
    """``spec.channels[1].name`` -> ['spec', 'channels', 1, 'name']."""
    parts: list[str | int] = []
    for segment in path.split("."):
        while "[" in segment and segment.endswith("]"):
            head, _, rest = segment.partition("[")
            if head:
                parts.append(head)
            index, _, segment = rest.partition("]")
            parts.append(int(index) if index.isdigit() else index)
            segment = segment.lstrip(".")
        if segment:
            parts.append(segment)
    return parts


def line_of(root: yaml.Node, path: str, default: int) -> int:
    """Line of the field at ``path`` (the key's line), or of its deepest existing parent."""
    if not path or path.startswith("<"):
        return default
    node = root
    line = default
    for part in split_path(path):
        if isinstance(part, str):
            key_line = _key_line(node, part)
            if key_line is None:
                return line
            line = key_line
        child = _child(node, part)
        if child is None:
            return line
        node = child
        if isinstance(part, int):
            line = int(node.start_mark.line) + 1
    return line
