"""CEL operators on runtime values, shared by the interpreter and the fast path.

Semantics are Kubernetes CEL's: no implicit numeric conversion (``1 + 1.0`` is an error), int
and uint arithmetic checked for 64-bit overflow, heterogeneous equality (``1 == 1.0``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from shared.policy.cel.values import (
    CelError,
    UInt,
    cel_eq,
    cel_in,
    cel_lt,
    check_int,
    check_uint,
    is_number,
    no_overload,
)


def add(a: Any, b: Any) -> Any:
    if isinstance(a, bool) or isinstance(b, bool):
        raise no_overload("_+_")
    if isinstance(a, int) and isinstance(b, int):
        if isinstance(a, UInt) != isinstance(b, UInt):
            raise no_overload("_+_")
        return check_uint(a + b) if isinstance(a, UInt) else check_int(a + b)
    if isinstance(a, float) and isinstance(b, float):
        return a + b
    if type(a) is type(b) and isinstance(a, str | bytes | list):
        return a + b
    if hasattr(a, "__add__") and not is_number(a) and not is_number(b):
        try:
            return a + b
        except TypeError:
            pass
    raise no_overload("_+_")


def sub(a: Any, b: Any) -> Any:
    if isinstance(a, bool) or isinstance(b, bool):
        raise no_overload("_-_")
    if isinstance(a, int) and isinstance(b, int):
        if isinstance(a, UInt) != isinstance(b, UInt):
            raise no_overload("_-_")
        return check_uint(a - b) if isinstance(a, UInt) else check_int(a - b)
    if isinstance(a, float) and isinstance(b, float):
        return a - b
    if not is_number(a) and not is_number(b) and not isinstance(a, str | bytes | list):
        try:
            return a - b
        except TypeError:
            pass
    raise no_overload("_-_")


def mul(a: Any, b: Any) -> Any:
    if isinstance(a, bool) or isinstance(b, bool):
        raise no_overload("_*_")
    if isinstance(a, int) and isinstance(b, int):
        if isinstance(a, UInt) != isinstance(b, UInt):
            raise no_overload("_*_")
        return check_uint(a * b) if isinstance(a, UInt) else check_int(a * b)
    if isinstance(a, float) and isinstance(b, float):
        return a * b
    raise no_overload("_*_")


def _int_divmod(a: int, b: int) -> tuple[int, int]:
    if b == 0:
        raise CelError("division by zero")
    q = abs(a) // abs(b)
    if (a < 0) != (b < 0):
        q = -q
    return q, a - b * q


def div(a: Any, b: Any) -> Any:
    if isinstance(a, bool) or isinstance(b, bool):
        raise no_overload("_/_")
    if isinstance(a, int) and isinstance(b, int):
        if isinstance(a, UInt) != isinstance(b, UInt):
            raise no_overload("_/_")
        q = _int_divmod(a, b)[0]
        return check_uint(q) if isinstance(a, UInt) else check_int(q)
    if isinstance(a, float) and isinstance(b, float):
        if b == 0.0:
            return float("nan") if a == 0.0 or a != a else float("inf") if a > 0 else float("-inf")
        return a / b
    raise no_overload("_/_")


def mod(a: Any, b: Any) -> Any:
    if (
        isinstance(a, int)
        and isinstance(b, int)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    ):
        if b == 0:
            raise CelError("modulus by zero")
        return _int_divmod(a, b)[1]
    raise no_overload("_%_")


def neg(a: Any) -> Any:
    if isinstance(a, bool | UInt):
        raise no_overload("-_")
    if isinstance(a, int):
        return check_int(-a)
    if isinstance(a, float):
        return -a
    raise no_overload("-_")


def index(container: Any, key: Any) -> Any:
    if isinstance(container, list):
        if (
            isinstance(key, bool)
            or not is_number(key)
            or (isinstance(key, float) and key != int(key))
        ):
            raise no_overload("_[_]")
        i = int(key)
        if i < 0 or i >= len(container):
            raise CelError(f"index out of bounds: {i}")
        return container[i]
    if isinstance(container, dict):
        if key in container and not isinstance(key, float):
            return container[key]
        raise CelError(f"no such key: {key}")
    raise no_overload("_[_]")


RELATIONS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "relation_eq": cel_eq,
    "relation_ne": lambda a, b: not cel_eq(a, b),
    "relation_lt": cel_lt,
    "relation_gt": lambda a, b: cel_lt(b, a),
    "relation_le": lambda a, b: not cel_lt(b, a),
    "relation_ge": lambda a, b: not cel_lt(a, b),
    "relation_in": cel_in,
}
ARITH: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "addition_add": add,
    "addition_sub": sub,
    "multiplication_mul": mul,
    "multiplication_div": div,
    "multiplication_mod": mod,
}


def truth(value: Any) -> bool:
    if value is True or value is False:
        return value
    raise no_overload("bool expected")
