"""List types and size bounds: maxItems/minItems, max/minProperties, and the uniqueness of
``x-kubernetes-list-type: map`` keys and ``set`` items (each duplicate reported once, as the
apiserver does); old items of a list map are correlated by key for transition rules."""

from __future__ import annotations

from typing import Any

from shared.policy.schema.node import Node
from shared.policy.verdict import DUPLICATE, INVALID, TOO_MANY, Violation


def check_item_counts(node: Node, value: list[Any], path: str, errors: list[Violation]) -> None:
    """maxItems / minItems."""
    check_counts(value, node.max_items, node.min_items, "Items", "items", path, errors)


def check_counts(
    value: list[Any] | dict[str, Any],
    maximum: int | None,
    minimum: int | None,
    rule: str,
    noun: str,
    path: str,
    errors: list[Violation],
) -> None:
    """max/minItems or max/minProperties, with the apiserver's messages."""
    if maximum is not None and len(value) > maximum:
        detail = f"must have at most {maximum} items"  # "items" for properties too, as upstream
        errors.append(Violation(path, TOO_MANY, detail, f"schema:max{rule}", len(value)))
    if minimum is not None and len(value) < minimum:
        detail = f"{path} in body should have at least {minimum} {noun}"
        errors.append(Violation(path, INVALID, detail, f"schema:min{rule}", len(value)))


def map_key(keys: tuple[str, ...], item: dict[str, Any]) -> tuple[Any, ...]:
    """A list-map item's key, hashable."""
    return tuple(hashable(item.get(k)) for k in keys)


def hashable(value: Any) -> Any:
    """A set item (or key value), hashable, never equal across JSON types."""
    if isinstance(value, dict | list):
        return repr(value)
    return (type(value).__name__, value)


def old_items_by_key(node: Node, old: Any) -> dict[tuple[Any, ...], Any] | None:
    """The old list-map items by key (None: not a list map, or no old list)."""
    if node.list_type != "map" or not node.map_keys or not isinstance(old, list):
        return None
    return {map_key(node.map_keys, o): o for o in old if isinstance(o, dict)}


def check_map_keys(node: Node, value: list[Any], path: str, errors: list[Violation]) -> None:
    """Items of a list map must be objects with distinct keys."""
    # As the apiserver: only the first item that is neither an object nor null is reported, and
    # then no key is compared; a null item has every key unspecified.
    for i, item in enumerate(value):
        if item is not None and not isinstance(item, dict):
            detail = "must be an object for an array of list-type map"
            errors.append(Violation(f"{path}[{i}]", INVALID, detail, "schema:list-map-keys", item))
            return
    if len(node.map_keys) == 1:  # the common case: one key, string values, all distinct
        name = node.map_keys[0]
        keys = [item.get(name) if type(item) is dict else None for item in value]
        if all(type(k) is str for k in keys) and len(set(keys)) == len(keys):
            return
    seen: set[tuple[Any, ...]] = set()
    reported: set[tuple[Any, ...]] = set()
    for i, item in enumerate(value):
        if item is None:
            item = {}
        key = map_key(node.map_keys, item)
        if key in seen and key not in reported:  # each duplicated key once, as the apiserver
            # A null key was pruned before the apiserver compares keys (map keys are never
            # nullable), though this walk prunes each item only when it visits it.
            shown = {k: item[k] for k in node.map_keys if item.get(k) is not None}
            errors.append(Violation(f"{path}[{i}]", DUPLICATE, "", "schema:list-map-keys", shown))
            reported.add(key)
        seen.add(key)


def check_set(value: list[Any], path: str, errors: list[Violation]) -> None:
    """Items of a set must be distinct."""
    seen: set[Any] = set()
    reported: set[Any] = set()
    for i, item in enumerate(value):
        key = hashable(item)
        if key in seen and key not in reported:
            errors.append(Violation(f"{path}[{i}]", DUPLICATE, "", "schema:list-set", item))
            reported.add(key)
        seen.add(key)
