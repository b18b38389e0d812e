"""How deeply nested an object may be: the API server's limit, shared by `check` and the webhook.

kube-apiserver decodes request bodies with Go's encoding/json, which refuses nesting deeper
than 10,000 levels (``maxNestingDepth``); kubectl reads YAML with go-yaml, which has the same
limit. Within it the apiserver admits any depth where the schema allows it (e.g. under
``x-kubernetes-preserve-unknown-fields``), so `check` and the webhook do too. Python's
recursion limit is raised by the two command lines (composition roots) so that the engine's
recursive walks and the JSON decoder reach that depth.
"""

from __future__ import annotations

import sys
from typing import Any, Final

MAX_NESTING: Final = 10_000
"""Go encoding/json's ``maxNestingDepth`` (and go-yaml's): deeper input is refused."""

RECURSION_LIMIT: Final = 6 * MAX_NESTING + 2_000
"""Frames a walk over a ``MAX_NESTING``-deep object needs (a few per level, plus the stack)."""

TOO_DEEP_TEXT: Final = (
    f"nested deeper than {MAX_NESTING} levels; the Kubernetes API server's JSON decoder "
    "refuses such input (exceeded max depth)"
)


def allow_deep_objects() -> None:
    """Raise the interpreter's recursion limit so objects up to `MAX_NESTING` levels work."""
    if sys.getrecursionlimit() < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)


def depth_exceeds(value: Any, limit: int = MAX_NESTING) -> bool:
    """Whether a decoded JSON value nests deeper than ``limit`` (iterative, no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if type(item) is dict:
            stack.extend((v, depth + 1) for v in item.values() if type(v) in (dict, list))
        elif type(item) is list:
            stack.extend((v, depth + 1) for v in item if type(v) in (dict, list))
    return False
