"""Argument checks shared by the CEL library areas: a wrong type is CEL's ``no such overload``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from shared.policy.cel.values import no_overload

Function = Callable[..., Any]
"""A library function: evaluated arguments in (a member function's target first), value out."""


def string_arg(value: Any, fn: str) -> str:
    """``value`` if it is a string, else ``no such overload`` for ``fn``."""
    if not isinstance(value, str):
        raise no_overload(fn)
    return value


def int_arg(value: Any, fn: str) -> int:
    """``value`` if it is an int (never a bool), else ``no such overload`` for ``fn``."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise no_overload(fn)
    return value


def fail(name: str) -> NoReturn:
    """Raise ``no such overload`` for ``name`` (for use inside lambdas)."""
    raise no_overload(name)
