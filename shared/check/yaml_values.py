"""Fast construction of `check`'s values from libyaml's node tree.

PyYAML's constructor is Python built on generators and spends most of `check`'s time; this walk
builds the same plain values (dicts, lists, str/int/float/bool/None; timestamps stay strings as
in sigs.k8s.io/yaml) in one recursive pass that also measures what `inputs` must refuse (depth,
alias expansion) and finds keys given twice, so no second walk is needed. Scalars other than
strings are converted by PyYAML's own SafeConstructor functions, once per distinct value.
Anything unusual (explicit or unknown tags, merge keys, complex keys) raises `Unusual`, and the
caller builds that document with PyYAML's constructor instead: same values, slower.
"""

from __future__ import annotations

from typing import Any, Final

import yaml

STR: Final = "tag:yaml.org,2002:str"
MAP: Final = "tag:yaml.org,2002:map"
SEQ: Final = "tag:yaml.org,2002:seq"
TIMESTAMP: Final = "tag:yaml.org,2002:timestamp"
_SCALAR_TAGS: Final = frozenset(
    {
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:null",
    }
)
_CACHE_LIMIT: Final = 100_000


class Unusual(Exception):
    """The document uses YAML this fast path leaves to PyYAML's constructor."""


class TooBig(Exception):
    """Depth or alias expansion beyond the limits (``str(exc)`` says which; ``line``, the
    1-based line of the node too deep, if that is the reason)."""

    def __init__(self, text: str, line: int | None = None) -> None:
        super().__init__(text)
        self.line = line


class Builder:
    """Builds values for one document at a time; keeps a cache of converted scalars."""

    def __init__(self, max_depth: int, max_nodes: int) -> None:
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self._constructor = yaml.SafeLoader("")  # only its scalar constructor functions are used
        self._scalars: dict[tuple[str, str], Any] = {}
        self._nodes = 0
        self._trail: list[str] = []
        self.duplicates: list[tuple[int, str]] = []
        self._seen: set[int] = set()
        self.aliased = False
        """Whether the last document reused a node (a YAML alias): its values share objects."""

    def build(self, root: yaml.Node) -> tuple[Any, tuple[str, ...]]:
        """(value, paths of duplicate keys in document order); `Unusual` or `TooBig`."""
        self._nodes = 0
        self._trail = []
        self.duplicates = []
        self._seen = set()
        self.aliased = False
        value = self._value(root, 1)
        return value, tuple(p for _, p in sorted(self.duplicates))

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        tag = node.tag
        if tag in (STR, TIMESTAMP):
            return node.value
        if tag not in _SCALAR_TAGS:
            raise Unusual(tag)
        key = (tag, node.value)
        try:
            return self._scalars[key]
        except KeyError:
            value = self._constructor.yaml_constructors[tag](self._constructor, node)
            if len(self._scalars) < _CACHE_LIMIT:
                self._scalars[key] = value
            return value

    def _value(self, node: yaml.Node, depth: int) -> Any:
        self._nodes += 1
        if self._nodes > self.max_nodes:
            raise TooBig(
                f"document expands to more than {self.max_nodes} nodes (excessive aliasing?)"
            )
        cls = type(node)
        if cls is yaml.ScalarNode:
            return self._scalar(node)  # type: ignore[arg-type]
        if depth > self.max_depth:
            line = node.start_mark.line + 1
            raise TooBig(f"line {line}", line)
        if id(node) in self._seen:
            self.aliased = True
        self._seen.add(id(node))
        if cls is yaml.MappingNode:
            if node.tag != MAP:
                raise Unusual(node.tag)
            out: dict[Any, Any] = {}
            trail = self._trail
            for key_node, value_node in node.value:
                if type(key_node) is not yaml.ScalarNode:
                    raise Unusual("complex key")
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise Unusual("merge key")
                key = self._scalar(key_node)
                if key in out:
                    path = ".".join([*trail, str(key)]).replace(".[", "[")
                    self.duplicates.append((key_node.start_mark.index, path))
                if type(value_node) is yaml.ScalarNode:
                    self._nodes += 1
                    out[key] = self._scalar(value_node)
                else:
                    trail.append(str(key))
                    out[key] = self._value(value_node, depth + 1)
                    trail.pop()
            return out
        if cls is yaml.SequenceNode:
            if node.tag != SEQ:
                raise Unusual(node.tag)
            items: list[Any] = []
            trail = self._trail
            for i, item in enumerate(node.value):
                if type(item) is yaml.ScalarNode:
                    self._nodes += 1
                    items.append(self._scalar(item))
                else:
                    trail.append(f"[{i}]")
                    items.append(self._value(item, depth + 1))
                    trail.pop()
            return items
        raise Unusual(cls.__name__)
