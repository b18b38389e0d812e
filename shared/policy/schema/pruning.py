"""Pruning and defaulting, as the apiserver does before validation.

Unknown fields are dropped (and their paths recorded) unless the schema preserves them; a null
in a non-nullable field is dropped, or replaced by the default when there is one; a null under a
non-nullable ``additionalProperties`` without a default is dropped
(``PruneNonNullableNullsWithoutDefaults``); absent defaults are added.
"""

from __future__ import annotations

import copy
from typing import Any

from shared.policy.schema.node import ABSENT, Node, join


def prune_and_default(node: Node, value: Any, path: str, unknown: list[str] | None) -> None:
    """Drop unknown fields (recording their paths when ``unknown`` is a list) and apply
    defaults, in place, all the way down."""
    if isinstance(value, dict):
        prune_object(node, value, path, unknown)
        props = node.properties
        for key, sub in value.items():
            if not isinstance(sub, dict | list):
                continue
            child = props.get(key) if props is not None else None
            if child is None:
                child = node.additional
            if child is not None:
                prune_and_default(child, sub, join(path, key), unknown)
    elif isinstance(value, list) and node.items is not None:
        for i, item in enumerate(value):
            if isinstance(item, dict | list):
                prune_and_default(node.items, item, f"{path}[{i}]", unknown)


def prune_object(node: Node, value: dict[str, Any], path: str, unknown: list[str] | None) -> None:
    """Prune and default one object level (its children are handled when visited)."""
    if _prunes(node):
        _drop_unknown_and_nulls(node, value, path, unknown)
    props = node.properties
    for name, default in node.defaults:
        current = value.get(name, ABSENT)
        if current is ABSENT or (current is None and not props[name].nullable):  # type: ignore[index]
            value[name] = copy.deepcopy(default)


def _prunes(node: Node) -> bool:
    """Whether some key of an object under ``node`` may be dropped."""
    closed = node.properties is not None or (node.additional is None and not node.preserve_unknown)
    return closed or node.drops_null_additional


def _drop_unknown_and_nulls(
    node: Node, value: dict[str, Any], path: str, unknown: list[str] | None
) -> None:
    props = node.properties
    open_ended = node.additional is not None or node.preserve_unknown or node.embedded
    for key in [k for k, v in value.items() if v is None or props is None or k not in props]:
        child = props.get(key) if props is not None else None
        if child is None:
            if not open_ended:
                if unknown is not None:
                    unknown.append(join(path, key))
                del value[key]
            elif value[key] is None and node.drops_null_additional:
                del value[key]
        elif (
            value[key] is None
            and not child.nullable
            and not any(n == key for n, _ in node.defaults)
        ):
            del value[key]
