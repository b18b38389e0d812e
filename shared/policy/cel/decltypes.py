"""Declared types of CEL variables, as the apiserver derives them from a structural schema.

A `DeclType` is what the type checker and the cost estimator know of ``self``: its CEL type,
its fields (an object) or element type (a list or map), and the apiserver's size facts:
``max_elements`` (a string's bytes, a list's items, a map's entries: the schema's maxLength x 4,
maxItems, maxProperties, or what fits in the largest request) and ``min_size`` (the smallest
JSON it serializes to), from which the apiserver bounds how often a rule can run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

MAX_REQUEST_SIZE_BYTES: Final = 3 * 1024 * 1024
"""The apiserver's largest request body; bounds lists, maps and strings without a maximum."""

#: CEL type names of `DeclType.kind` (``dyn``: any value, checked at run time).
BOOL, INT, UINT, DOUBLE, STRING, BYTES = "bool", "int", "uint", "double", "string", "bytes"
NULL, LIST, MAP, OBJECT, DYN, TYPE = "null_type", "list", "map", "object", "dyn", "type"
DURATION, TIMESTAMP = "google.protobuf.Duration", "google.protobuf.Timestamp"


@dataclass(frozen=True, slots=True)
class DeclType:
    """A CEL type with the apiserver's size facts."""

    kind: str
    elem: DeclType | None = None
    """A list's item type or a map's value type."""
    fields: Mapping[str, DeclType] | None = field(default=None, hash=False, compare=False)
    """An object's declared properties (escaped names as CEL reads them)."""
    open_fields: bool = False
    """An object whose fields are not all declared (preserved unknown fields)."""
    max_elements: int = 0
    min_size: int = 1

    def __str__(self) -> str:
        if self.kind == LIST:
            return f"list({self.elem or DYN_TYPE})"
        if self.kind == MAP:
            return f"map(string, {self.elem or DYN_TYPE})"
        return self.kind


DYN_TYPE: Final = DeclType(DYN)
BOOL_TYPE: Final = DeclType(BOOL, min_size=4)
INT_TYPE: Final = DeclType(INT)
UINT_TYPE: Final = DeclType(UINT)
DOUBLE_TYPE: Final = DeclType(DOUBLE)
STRING_TYPE: Final = DeclType(STRING, min_size=2)
BYTES_TYPE: Final = DeclType(BYTES, min_size=2)
NULL_TYPE: Final = DeclType(NULL)
TYPE_TYPE: Final = DeclType(TYPE)
DURATION_TYPE: Final = DeclType(DURATION)
TIMESTAMP_TYPE: Final = DeclType(TIMESTAMP)


def list_of(elem: DeclType, max_items: int | None = None) -> DeclType:
    """A list type; without ``max_items``, as many items as fit in the largest request."""
    if max_items is None:
        max_items = (MAX_REQUEST_SIZE_BYTES - 2) // (elem.min_size + 1)
    return DeclType(LIST, elem=elem, max_elements=max(max_items, 0), min_size=2)


def map_of(value: DeclType, max_properties: int | None = None) -> DeclType:
    """A map type (string keys); without ``max_properties``, as many as fit in a request."""
    if max_properties is None:
        max_properties = (MAX_REQUEST_SIZE_BYTES - 2) // (value.min_size + 6)
    return DeclType(MAP, elem=value, max_elements=max(max_properties, 0), min_size=2)


def string_type(max_length: int | None = None) -> DeclType:
    """A string type: maxLength in code points is up to 4 bytes each, as the apiserver counts."""
    size = max(max_length, 0) * 4 if max_length is not None else MAX_REQUEST_SIZE_BYTES - 2
    return DeclType(STRING, max_elements=size, min_size=2)


def max_cardinality(min_size: int) -> int:
    """How often a value of ``min_size`` bytes can occur in the largest request."""
    return MAX_REQUEST_SIZE_BYTES // (min_size + 1)
