"""A fast reader for the plain block YAML most manifests are written in, line by line.

libyaml through PyYAML costs about 1.5 µs per parser event (each event and mark is a Python
object), which alone kept `check` near 1,500 manifests/s. Most manifests use a small part of
YAML: block mappings and sequences, one-line plain or simply quoted scalars and one-line flat
flow collections. This module reads exactly that part with one regular expression per line
and gives up (`NotPlain`) on anything else (anchors, aliases, tags, block scalars,
multi-line scalars, escapes, complex keys, tabs, odd indentation, anything it is unsure of);
the caller then reads that document with libyaml, as before. Scalars are resolved and
converted by PyYAML's own resolver and SafeConstructor functions, so values are the same;
keys given twice are found as `yaml_values.Builder` finds them. A differential test compares
the two readers on generated and real documents.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Container
from dataclasses import dataclass
from typing import Any, Final

import yaml

from shared.check.yaml_values import STR, TIMESTAMP

_SCALAR_TAGS: Final = frozenset(
    {
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:null",
    }
)
MAX_SEGMENT_CHARS: Final = 200_000
"""Longer documents go to libyaml, whose reader measures size, depth and alias limits."""
MAX_KEY_CHARS: Final = 250
"""libyaml refuses implicit keys over 1,024 characters (bytes, if it counts those): longer
keys go to libyaml, which says so."""
MAX_DEPTH: Final = 100
_CACHE_LIMIT: Final = 100_000
_SHAPE_LIMIT: Final = 10_000
"""Document shapes remembered (each a tuple of its lines' ids: at most 10,000 x 500 ids)."""
_BUILDER_LIMIT: Final = 2_000
"""Compiled document shapes kept (each is a small function)."""
_BUILDER_MAX_LINES: Final = 500

# Streams with anything outside printable characters and \n (tabs, CR, NEL, LS, PS, C1 controls,
# a BOM inside), with directives (%) or document end markers (...) are all read by libyaml.
_NOT_PRINTABLE: Final = re.compile(
    "[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_PRINTABLE_ASCII: Final = bytes(range(0x20, 0x7F)) + b"\n"
_MARKER_REST: Final = re.compile(r" *(?:#.*)?$")


def _quoted(prefix: str) -> str:
    """A simply quoted scalar on one line: no escapes, no line breaks (groups ``dq``, ``sq``)."""
    return rf"\"(?P<{prefix}dq>[^\"\\]*)\"|'(?P<{prefix}sq>(?:[^']|'')*)'"


def _key(prefix: str) -> str:
    """A key: plain with the characters of Kubernetes keys, or simply quoted."""
    return rf"(?:(?P<{prefix}plain>[\w$][\w$.\-/+@]*)|{_quoted(prefix)})"


_ENTRY: Final = re.compile(_key("") + r":(?: +(?P<rest>.*))?$")
_DQ: Final = re.compile(r"\"([^\"\\]*)\"(?: +(?:#.*)?)?$")
_SQ: Final = re.compile(r"'((?:[^']|'')*)'(?: +(?:#.*)?)?$")
_COMMENT_TAIL: Final = re.compile(r" +#.*$")
# One flow item: a simply quoted string or a plain scalar that cannot be read two ways.
_FLOW_SCALAR: Final = (
    rf" *(?:{_quoted('')}"
    r"|(?P<plain>-?[\w$./+~=()<>^;\\][^,\[\]{}#:'\"]*"
    r"(?::[^\s,\[\]{}?#:'\"][^,\[\]{}#:'\"]*)*))"
)
_FLOW_ITEM: Final = re.compile(_FLOW_SCALAR + r" *(?P<sep>[,\]])")
_FLOW_PAIR: Final = re.compile(r" *" + _key("k") + r": +" + _FLOW_SCALAR + r" *(?P<sep>[,}])")
_FLOW_TAIL: Final = re.compile(r" *(?: #.*)?$")
_PLAIN_HEAD: Final = re.compile(r" *[\w$][\w$.\-/+@]*: ")
_BLOCK_PLAIN_START: Final = frozenset("-?:,[]{}#&*!|>'\"%@`")


class _EveryCharacter:
    def __contains__(self, item: object) -> bool:
        return True


_EVERY_CHARACTER: Final = _EveryCharacter()


class NotPlain(Exception):
    """This document is not in the part of YAML read here; read it with libyaml."""


@dataclass(frozen=True, slots=True)
class Segment:
    """Lines ``start``…``end`` (0-based, end excluded) of a stream: one document's text."""

    start: int
    end: int
    explicit: bool
    """Whether the segment opens with a ``---`` line."""
    chars: int
    """Its length in characters."""


def split_stream(text: str) -> tuple[list[str], list[Segment]] | None:
    """The lines of a stream and its documents, cut at ``---`` lines; None when libyaml must
    read all of it. Text before the first ``---`` is a document only if it holds more than
    comments (`Reader.read` then says so by returning no line)."""
    if text.startswith(("%", "...")) or "\n%" in text or "\n..." in text:
        return None
    if text.isascii():
        if text.encode("ascii").translate(None, _PRINTABLE_ASCII):
            return None
    elif _NOT_PRINTABLE.search(text):
        return None
    lines = text.split("\n")
    starts = [0] if text.startswith("---") and _is_marker(lines[0]) else []
    offsets = [0] if starts else []
    line = 0
    previous = 0
    found = text.find("\n---")
    while found >= 0:
        line += text.count("\n", previous, found + 1)
        previous = found + 1
        if _is_marker(lines[line]):
            starts.append(line)
            offsets.append(found + 1)
        found = text.find("\n---", found + 1)
    implicit = not starts or starts[0] != 0
    if implicit:
        starts.insert(0, 0)
        offsets.insert(0, 0)
    segments = [
        Segment(start, end, not (implicit and i == 0), stop - offset)
        for i, (start, end, offset, stop) in enumerate(
            zip(starts, [*starts[1:], len(lines)], offsets, [*offsets[1:], len(text)], strict=True)
        )
    ]
    return lines, segments


def _is_marker(raw: str) -> bool:
    return len(raw) == 3 or raw[3] == " "


# Parsed lines: what a line says, whatever its indentation. Kinds:
_KEY_OPEN: Final = 0  # "key:"                       (key,)
_KEY_VALUE: Final = 1  # "key: value"                (key, value)
_DASH_OPEN: Final = 2  # "-"                          ()
_DASH_VALUE: Final = 3  # "- value"                   (value,)
_DASH_KEY_OPEN: Final = 4  # "- key:"                 (offset, key)
_DASH_KEY_VALUE: Final = 5  # "- key: value"          (offset, key, value)
_SKIP: Final = -1  # blank or comment
_NOT_PLAIN: Final = (-2,)


_VALUE_KINDS: Final = frozenset({_KEY_VALUE, _DASH_VALUE, _DASH_KEY_VALUE})


def _copier(value: Any) -> Any:
    """How to get a fresh copy of a remembered value: flow collections are flat, so a
    shallow copy; None for immutable scalars."""
    return type(value) if type(value) in (list, dict) else None


class _Slot:
    """Where a line's value goes in a shape's value tree (see `Reader._compile`)."""

    __slots__ = ("line",)

    def __init__(self, line: int) -> None:
        self.line = line


class Reader:
    """Reads one document at a time; remembers parsed lines and converted scalars across
    documents (manifests repeat most of their lines).

    Documents of one *shape* (the same lines but for their scalar values: same keys,
    indentation, kinds of line) give values of the same structure. A shape seen a second time
    is compiled into a function that builds the value in one expression from the lines'
    values, which is many times faster than reading line by line; the line-by-line read
    decides everything first (a shape is compiled only after it read without `NotPlain`).
    """

    def __init__(self) -> None:
        self._resolver = yaml.resolver.Resolver()
        implicit = self._resolver.yaml_implicit_resolvers
        # The first characters PyYAML's resolver has a rule for (every one, when some rule
        # applies to any first character or a path resolver is registered).
        self._resolved_firsts: Container[str] = (
            _EVERY_CHARACTER
            if None in implicit or self._resolver.yaml_path_resolvers
            else frozenset(k for k in implicit if k)
        )
        self._constructor = yaml.SafeLoader("")
        self._plain: dict[str, Any] = {}
        self._lines: dict[str, tuple[tuple[Any, ...], int, Any]] = {}
        """raw line -> (entry, shape id of the line, the line's value or None)"""
        self._line_shapes: dict[tuple[Any, ...], int] = {}
        self._ids = itertools.count()
        self._shapes: dict[tuple[int, ...], Any] = {}
        """document shape -> times read, or (builder, first line with content) once compiled"""
        self._builders = 0
        self._heads: dict[str, tuple[int, str, int]] = {}
        """``"  key: "`` -> (indentation, key, shape id) of lines with a plain key and a scalar"""

    def read(self, lines: list[str], segment: Segment) -> tuple[Any, int | None]:
        """(value, 0-based line where the value starts, None for a document without
        content); `NotPlain` when libyaml must read it."""
        first = segment.start
        if segment.explicit:
            if not _MARKER_REST.match(lines[first], 3):
                raise NotPlain("content after ---")
            first += 1
        if segment.chars > MAX_SEGMENT_CHARS:
            raise NotPlain("large")
        cache = self._lines
        known = [cache.get(raw) or self._line(raw) for raw in lines[first : segment.end]]
        shape = tuple([k[1] for k in known])
        seen = self._shapes.get(shape)
        if type(seen) is tuple:
            builder, start = seen
            if start is None:
                return None, None
            return builder([k[2] for k in known]), first + start
        entries = [k[0] for k in known]
        root, start = _tree(entries)
        if seen is None:
            if len(self._shapes) < _SHAPE_LIMIT and len(entries) <= _BUILDER_MAX_LINES:
                self._shapes[shape] = 1
        elif seen:  # the second sighting: compile, or 0 (never again) when it cannot be
            self._shapes[shape] = self._compile(entries, start) or 0
        return root, None if start is None else first + start

    def _line(self, raw: str) -> tuple[tuple[Any, ...], int, Any]:
        """A line's entry, shape id and value (remembered while there is room)."""
        cut = raw.find(": ")
        head = self._heads.get(raw[: cut + 2]) if cut > 0 else None
        if head is not None:  # "key: value" with a key read before: read only the value
            rest = raw[cut + 2 :].strip(" ")
            if rest and rest[0] != "#":
                try:
                    value = self._inline(rest)
                except NotPlain:
                    value = _NOT_PLAIN
                if type(value) not in (list, dict, tuple):
                    known = ((_KEY_VALUE, head[0], head[1], value, None), head[2], value)
                    if len(self._lines) < _CACHE_LIMIT:
                        self._lines[raw] = known
                    return known
        entry = self._entry(raw)
        kind = entry[0]
        value = None
        if kind in (_KEY_VALUE, _DASH_VALUE, _DASH_KEY_VALUE):
            value = entry[-2]
            shape: tuple[Any, ...] = (*entry[:-2], entry[-1])
        else:
            shape = entry
        if kind in (_KEY_VALUE, _KEY_OPEN, _DASH_KEY_VALUE, _DASH_KEY_OPEN):
            # keys equal as Python values may print differently (True and 1, 0.0 and -0.0)
            at = 2 if kind in (_KEY_VALUE, _KEY_OPEN) else 3
            key = shape[at]
            if type(key) is not str:
                shape = (*shape[:at], (type(key), repr(key)), *shape[at + 1 :])
        shape_id = self._line_shapes.get(shape)
        if shape_id is None:  # a new id; remembered while there is room (else unique)
            shape_id = next(self._ids)
            if len(self._line_shapes) < _CACHE_LIMIT:
                self._line_shapes[shape] = shape_id
        if kind == _KEY_VALUE and entry[4] is None and type(entry[2]) is str and cut > 0:
            # A plain key has no ": " in it: lines with this head are this key's.
            head_text = raw[: cut + 2]
            if _PLAIN_HEAD.fullmatch(head_text) and len(self._heads) < _CACHE_LIMIT:
                self._heads[head_text] = (entry[1], entry[2], shape_id)
        known = (entry, shape_id, value)
        if len(self._lines) < _CACHE_LIMIT:
            self._lines[raw] = known
        return known

    def _compile(self, entries: list[tuple[Any, ...]], start: int | None) -> Any:
        """(builder, start) for the shape of ``entries``, or None when it is not worth it."""
        if self._builders >= _BUILDER_LIMIT or len(entries) > _BUILDER_MAX_LINES:
            return None
        slots = [_with_slot(entry, number) for number, entry in enumerate(entries)]
        tree, _ = _tree(slots)
        keys: list[Any] = []
        copiers = {n: e[-1] for n, e in enumerate(entries) if e[0] in _VALUE_KINDS}

        def emit(node: Any) -> str:
            if type(node) is dict:
                parts = []
                for key, child in node.items():
                    keys.append(key)
                    parts.append(f"k[{len(keys) - 1}]: {emit(child)}")
                return "{" + ", ".join(parts) + "}"
            if type(node) is list:
                return "[" + ", ".join(emit(child) for child in node) + "]"
            if type(node) is _Slot:
                copier = copiers[node.line]
                if copier is None:
                    return f"v[{node.line}]"
                return f"{copier.__name__}(v[{node.line}])"
            return "None"

        try:
            code = compile(f"lambda v: {emit(tree)}", "<yaml shape>", "eval")
            builder = eval(code, {"k": keys, "__builtins__": {"list": list, "dict": dict}})
        except (RecursionError, SyntaxError, MemoryError, ValueError):
            return None
        self._builders += 1
        return builder, start

    def _entry(self, raw: str) -> tuple[Any, ...]:
        """What a line says, with its indentation: ``(kind, indent, …)``."""
        body = raw.lstrip(" ")
        if not body or body[0] == "#":
            return (_SKIP,)
        indent = len(raw) - len(body)
        parsed = self._parse_line(body.rstrip(" "))
        kind = parsed[0]
        if kind in (_KEY_VALUE, _DASH_VALUE):  # (kind, indent, [key,] value, copier)
            return (kind, indent, *parsed[1:], _copier(parsed[-1]))
        if kind == _DASH_KEY_VALUE:  # (kind, indent, column of the key, key, value, copier)
            return (kind, indent, indent + parsed[1], parsed[2], parsed[3], _copier(parsed[3]))
        if kind == _DASH_KEY_OPEN:  # (kind, indent, column of the key, key)
            return (kind, indent, indent + parsed[1], parsed[2])
        return (kind, indent, *parsed[1:])

    def _parse_line(self, body: str) -> tuple[Any, ...]:
        try:
            if body == "-" or body.startswith("- "):
                rest = body[1:].lstrip(" ")
                if not rest or rest[0] == "#":
                    return (_DASH_OPEN,)
                if rest == "-" or rest.startswith("- "):
                    return _NOT_PLAIN  # a compact nested sequence
                m = _ENTRY.match(rest)
                offset = len(body) - len(rest)
                if m is None:
                    return (_DASH_VALUE, self._inline(rest))
                key = self._key(m)
                value = m.group("rest")
                if value is None or value[0] == "#":
                    return (_DASH_KEY_OPEN, offset, key)
                return (_DASH_KEY_VALUE, offset, key, self._inline(value))
            m = _ENTRY.match(body)
            if m is None:
                return _NOT_PLAIN
            key = self._key(m)
            value = m.group("rest")
            if value is None or value[0] == "#":
                return (_KEY_OPEN, key)
            return (_KEY_VALUE, key, self._inline(value))
        except NotPlain:
            return _NOT_PLAIN

    def _key(self, m: re.Match[str], prefix: str = "") -> Any:
        """The key of a matched entry (groups ``plain``, ``dq``, ``sq`` after ``prefix``)."""
        plain, dq, sq = m.group(prefix + "plain", prefix + "dq", prefix + "sq")
        text = plain if plain is not None else dq if dq is not None else sq
        if len(text) > MAX_KEY_CHARS:
            raise NotPlain("long key")
        if plain is not None:
            return self._scalar(plain)
        return dq if dq is not None else sq.replace("''", "'")

    def _inline(self, rest: str) -> Any:
        """A value on the line of its key or dash: a scalar or a flat flow collection."""
        first = rest[0]
        if first == '"':
            m = _DQ.match(rest)
            if m is None:
                raise NotPlain("double-quoted")
            return m.group(1)
        if first == "'":
            m = _SQ.match(rest)
            if m is None:
                raise NotPlain("single-quoted")
            return m.group(1).replace("''", "'")
        if first in "[{":
            return self._flow(rest)
        if first in _BLOCK_PLAIN_START and (first != "-" or len(rest) < 2 or rest[1] == " "):
            raise NotPlain("indicator")
        if " #" in rest:
            rest = _COMMENT_TAIL.sub("", rest)
        if ": " in rest or rest.endswith(":"):
            raise NotPlain("colon in a plain scalar")
        return self._scalar(rest)

    def _flow_value(self, m: re.Match[str]) -> Any:
        plain = m.group("plain")
        if plain is not None:
            return self._scalar(plain.rstrip(" "))
        quoted = m.group("dq")
        return quoted if quoted is not None else m.group("sq").replace("''", "'")

    def _flow(self, rest: str) -> Any:
        """A flat flow collection on one line: ``[a, 'b']`` or ``{k: v, …}``."""
        is_map = rest[0] == "{"
        pattern, closer = (_FLOW_PAIR, "}") if is_map else (_FLOW_ITEM, "]")
        out: Any = {} if is_map else []
        inner = rest[1:].lstrip(" ")
        if inner.startswith(closer):
            pos = len(rest) - len(inner) + 1
        else:
            pos = 1
            while True:
                m = pattern.match(rest, pos)
                if m is None:
                    raise NotPlain("flow collection")
                if is_map:
                    key = self._key(m, "k")
                    if key in out:
                        raise NotPlain("a key given twice")
                    out[key] = self._flow_value(m)
                else:
                    out.append(self._flow_value(m))
                pos = m.end()
                if m.group("sep") == closer:
                    break
        if not _FLOW_TAIL.match(rest, pos):
            raise NotPlain("after a flow collection")
        return out

    def _scalar(self, text: str) -> Any:
        """A plain scalar's value, resolved and converted as PyYAML's safe loader does."""
        try:
            return self._plain[text]
        except KeyError:
            pass
        if text and text[0] not in self._resolved_firsts:
            return text  # no implicit resolver starts with this character: a string
        tag = self._resolver.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
        if tag in (STR, TIMESTAMP):
            value: Any = text
        elif tag in _SCALAR_TAGS:
            try:
                value = self._constructor.yaml_constructors[tag](
                    self._constructor, yaml.ScalarNode(tag, text)
                )
            except Exception as exc:  # whatever PyYAML would say, libyaml's path says it
                raise NotPlain("scalar") from exc
        else:
            raise NotPlain(tag)
        if len(self._plain) < _CACHE_LIMIT:
            self._plain[text] = value
        return value


def _with_slot(entry: tuple[Any, ...], number: int) -> tuple[Any, ...]:
    """A line's entry with a `_Slot` for its value (and no copier)."""
    if entry[0] in _VALUE_KINDS:
        return (*entry[:-2], _Slot(number), None)
    return entry


def _tree(entries: list[tuple[Any, ...]]) -> tuple[Any, int | None]:
    """The value of a document's parsed lines and the index of its first line with content
    (None, None for a document without content); `NotPlain` when libyaml must read it."""
    indents: list[int] = []
    objs: list[Any] = []
    root: Any = None
    top: Any = None
    top_indent = -1
    top_list = False
    start: int | None = None
    pending: tuple[Any, Any, int, bool] | None = None
    for number, entry in enumerate(entries):
        kind = entry[0]
        if kind <= _SKIP:
            if kind == _SKIP:
                continue
            raise NotPlain("line")
        indent = entry[1]
        dash = kind >= _DASH_OPEN
        if pending is not None:
            parent, slot, at, in_list = pending
            pending = None
            if indent > at or (indent == at and dash and not in_list):
                top = [] if dash else {}
                parent[slot] = top
                top_indent = indent
                top_list = dash
                indents.append(indent)
                objs.append(top)
                if len(objs) > MAX_DEPTH:
                    raise NotPlain("deep")
        elif top is None:
            root = top = [] if dash else {}
            start = number
            top_indent = indent
            top_list = dash
            indents.append(indent)
            objs.append(top)
        if indent != top_indent or dash != top_list:
            while indent < indents[-1]:
                indents.pop()
                objs.pop()
                if not indents:
                    raise NotPlain("content after the document's value")
            if indent != indents[-1]:
                raise NotPlain("indentation")
            if dash != (type(objs[-1]) is list):
                # a key after an indentless sequence ("key:\n- item\nnext: …") ends it
                if dash or len(objs) < 2 or indents[-2] != indent:
                    raise NotPlain("a key among items or an item among keys")
                indents.pop()
                objs.pop()
            top = objs[-1]
            top_indent = indent
            top_list = dash
        if kind == _KEY_VALUE:
            if entry[2] in top:
                raise NotPlain("a key given twice")
            top[entry[2]] = entry[3] if entry[4] is None else entry[4](entry[3])
        elif kind == _KEY_OPEN:
            key = entry[2]
            if key in top:
                raise NotPlain("a key given twice")
            top[key] = None
            pending = (top, key, indent, False)
        elif kind == _DASH_VALUE:
            top.append(entry[2] if entry[3] is None else entry[3](entry[2]))
        elif kind == _DASH_OPEN:
            top.append(None)
            pending = (top, len(top) - 1, indent, True)
        else:  # "- key…": a mapping whose column is that of its first key
            mapping: dict[Any, Any] = {}
            top.append(mapping)
            top = mapping
            top_indent = entry[2]
            top_list = False
            indents.append(top_indent)
            objs.append(top)
            if len(objs) > MAX_DEPTH:
                raise NotPlain("deep")
            if kind == _DASH_KEY_VALUE:
                mapping[entry[3]] = entry[4] if entry[5] is None else entry[5](entry[4])
            else:
                mapping[entry[3]] = None
                pending = (mapping, entry[3], top_indent, False)
    return root, start
