"""The CEL type of a schema node, as the apiserver declares ``self`` for its rules
(``SchemaDeclType``): objects with their properties, maps from additionalProperties, lists,
strings sized by maxLength (or enum, or the largest request), int-or-string as ``dyn``; at the
root of a resource ``apiVersion``, ``kind`` and ``metadata.name``/``generateName`` only."""

from __future__ import annotations

from typing import Final

from shared.policy.cel.decltypes import (
    BOOL_TYPE,
    DOUBLE_TYPE,
    DURATION,
    DYN,
    INT_TYPE,
    MAX_REQUEST_SIZE_BYTES,
    OBJECT,
    TIMESTAMP,
    DeclType,
    list_of,
    map_of,
    string_type,
)
from shared.policy.schema.node import Node

_OBJECT_META: Final = DeclType(
    OBJECT,
    fields={"name": string_type(), "generateName": string_type()},
    min_size=2,
)
_RESOURCE_FIELDS: Final = {"apiVersion": string_type(), "kind": string_type()}


def decl_type(node: Node, *, resource_root: bool = False) -> DeclType:
    """The declared CEL type of values of ``node`` (``resource_root``: the CRD's root)."""
    if node.int_or_string:
        return DeclType(DYN, max_elements=MAX_REQUEST_SIZE_BYTES - 2, min_size=1)
    if node.type == "object":
        return _object_type(node, resource_root or node.embedded)
    if node.type == "array":
        items = decl_type(node.items) if node.items is not None else DeclType(DYN)
        return list_of(items, node.max_items)
    if node.type == "string":
        return _string_type(node)
    if node.type == "boolean":
        return BOOL_TYPE
    if node.type == "integer":
        return INT_TYPE
    if node.type == "number":
        return DOUBLE_TYPE
    return DeclType(DYN)


def _object_type(node: Node, resource: bool) -> DeclType:
    if node.additional is not None and node.properties is None:
        return map_of(decl_type(node.additional), node.max_properties)
    fields: dict[str, DeclType] = {}
    min_size = 2  # {}
    defaults = {name for name, _ in node.defaults}
    for name, prop in (node.properties or {}).items():
        field = decl_type(prop)
        fields[name] = field
        if name in node.required and name not in defaults:
            min_size += len(name) + field.min_size + 4
    if resource:
        fields.update(_RESOURCE_FIELDS)
        fields["metadata"] = _OBJECT_META
    open_fields = node.preserve_unknown and not resource
    return DeclType(OBJECT, fields=fields, open_fields=open_fields, min_size=min_size)


def _string_type(node: Node) -> DeclType:
    if node.format == "byte":
        size = node.max_length if node.max_length is not None else MAX_REQUEST_SIZE_BYTES - 2
        return DeclType("bytes", max_elements=size, min_size=2)
    if node.format == "duration":
        return DeclType(DURATION, max_elements=1, min_size=2)
    if node.format in ("date", "date-time"):
        return DeclType(TIMESTAMP, max_elements=1, min_size=2)
    if node.max_length is None and node.enum:
        longest = max(len(str(e)) for e in node.enum)
        return DeclType("string", max_elements=longest, min_size=2)
    return string_type(node.max_length)
