"""Patch types: JSON merge patch (RFC 7386), JSON patch (RFC 6902), strategic merge (subset).

Strategic merge is applied as a merge patch that also understands the directives kubectl
sends (``$patch``, ``$setElementOrder/…``, ``$retainKeys``, ``$deleteFromPrimitiveList/…``)
and merges lists of objects by ``name`` when every element has one: enough for the
built-in kinds served here. Server-side apply is not supported (415).
"""

from __future__ import annotations

import copy
from typing import Any

from devstack.kubeapi.errors import ApiError, unsupported_media

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 merge patch; returns a new value."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def _merge_key(items: list[Any], patch_items: list[Any]) -> str | None:
    both = [*items, *patch_items]
    if both and all(isinstance(i, dict) and "name" in i for i in both):
        return "name"
    return None


def strategic_merge(target: Any, patch: Any) -> Any:
    """Strategic merge patch (the subset described in the module docstring)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    out = dict(target) if isinstance(target, dict) else {}
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            out[field] = [v for v in out.get(field) or [] if v not in value]
            continue
        if key.startswith("$"):
            continue
        if value is None:
            out.pop(key, None)
        elif isinstance(value, list) and isinstance(out.get(key), list):
            out[key] = _merge_list(out[key], value, patch.get(f"$setElementOrder/{key}"))
        else:
            out[key] = strategic_merge(out.get(key), value)
    if isinstance(retain, list):
        out = {k: v for k, v in out.items() if k in retain}
    return out


def _merge_list(current: list[Any], patch: list[Any], order: list[Any] | None) -> list[Any]:
    key = _merge_key(current, patch)
    if key is None:
        return copy.deepcopy(patch)
    merged = {item[key]: item for item in current}
    for item in patch:
        if item.get("$patch") == "delete":
            merged.pop(item[key], None)
            continue
        merged[item[key]] = strategic_merge(merged.get(item[key]), item)
    if order:
        names = [o.get(key) for o in order if isinstance(o, dict)]
        rest = [n for n in merged if n not in names]
        return [merged[n] for n in [*names, *rest] if n in merged]
    return list(merged.values())


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise ApiError(422, "Invalid", f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: list[str]) -> tuple[Any, str]:
    cur = doc
    for p in parts[:-1]:
        if isinstance(cur, list):
            cur = cur[int(p)]
        elif isinstance(cur, dict) and p in cur:
            cur = cur[p]
        else:
            raise KeyError(p)
    return cur, parts[-1]


def _get(doc: Any, parts: list[str]) -> Any:
    cur = doc
    for p in parts:
        cur = cur[int(p)] if isinstance(cur, list) else cur[p]
    return cur


def _add(doc: Any, parts: list[str], value: Any) -> Any:
    if not parts:
        return value
    parent, last = _parent(doc, parts)
    if isinstance(parent, list):
        idx = len(parent) if last == "-" else int(last)
        if idx > len(parent) or idx < 0:
            raise IndexError(last)
        parent.insert(idx, value)
    else:
        parent[last] = value
    return doc


def _remove(doc: Any, parts: list[str]) -> Any:
    parent, last = _parent(doc, parts)
    if isinstance(parent, list):
        parent.pop(int(last))
    else:
        del parent[last]
    return doc


def json_patch(target: Any, ops: Any) -> Any:
    """RFC 6902 JSON patch; returns a new value or raises a Kubernetes-shaped error."""
    if not isinstance(ops, list):
        raise ApiError(400, "BadRequest", "json patch must be a list of operations")
    doc = copy.deepcopy(target)
    for i, op in enumerate(ops):
        try:
            name = op["op"]
            parts = _pointer(op["path"])
            if name == "add":
                doc = _add(doc, parts, copy.deepcopy(op["value"]))
            elif name == "remove":
                doc = _remove(doc, parts)
            elif name == "replace":
                _get(doc, parts)
                doc = (
                    _add(_remove(doc, parts), parts, copy.deepcopy(op["value"]))
                    if parts
                    else op["value"]
                )
            elif name == "move":
                src = _pointer(op["from"])
                value = _get(doc, src)
                doc = _add(_remove(doc, src), parts, value)
            elif name == "copy":
                doc = _add(doc, parts, copy.deepcopy(_get(doc, _pointer(op["from"]))))
            elif name == "test":
                if _get(doc, parts) != op["value"]:
                    raise ApiError(
                        422,
                        "Invalid",
                        f"the server rejected our request due to an error in our request: testing value {op['path']} failed",
                    )
            else:
                raise ApiError(400, "BadRequest", f"unexpected json patch operation {name!r}")
        except ApiError:
            raise
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise ApiError(
                422,
                "Invalid",
                f"the server rejected our request due to an error in our request: "
                f"json patch operation {i} ({op.get('op') if isinstance(op, dict) else op}) failed: {exc!r}",
            ) from exc
    return doc


def apply_patch(
    content_type: str, target: dict[str, Any], patch: Any, *, custom: bool
) -> dict[str, Any]:
    """Apply a patch body of ``content_type`` to ``target``."""
    ctype = content_type.split(";")[0].strip()
    if ctype == JSON_PATCH:
        result = json_patch(target, patch)
    elif ctype == MERGE_PATCH:
        result = merge_patch(target, patch)
    elif ctype == STRATEGIC_PATCH:
        result = merge_patch(target, patch) if custom else strategic_merge(target, patch)
    else:
        accepted = [JSON_PATCH, MERGE_PATCH] + ([] if custom else [STRATEGIC_PATCH])
        raise unsupported_media(accepted)
    if not isinstance(result, dict):
        raise ApiError(422, "Invalid", "the patch did not result in an object")
    return result
