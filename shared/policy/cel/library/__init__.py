"""CEL functions: the standard library plus the Kubernetes extensions cel-python lacks.

Kubernetes CRD validation rules may call the strings extension (``trim``, ``split``...), the
Kubernetes ``lists``, ``regex``, ``url``, ``quantity``, ``ip``/``cidr`` and ``sets`` libraries.
Each function takes already-evaluated arguments and raises `CelError` for bad input; member
functions receive their target first. One module per area; this one joins their tables.
"""

from __future__ import annotations

from typing import Any, Final

from shared.policy.cel.library import lists, network, quantities, standard, strings, urls
from shared.policy.cel.library.args import Function
from shared.policy.cel.values import TYPES

_AREAS: Final = (standard, strings, lists, urls, quantities, network)

GLOBALS: Final[dict[str, Function]] = {k: v for a in _AREAS for k, v in a.GLOBALS.items()}
"""Functions called as ``f(x, ...)`` (namespaced ones as ``sets.contains``...)."""

MEMBERS: Final[dict[str, Function]] = {k: v for a in _AREAS for k, v in a.MEMBERS.items()}
"""Functions called as ``x.f(...)``; the target is the first argument."""


def type_constant(name: str) -> Any:
    """The value of a type identifier (``int``, ``string``...) or None."""
    return TYPES.get(name)
