"""CEL runtime values and the semantics shared by the compiler and the library.

Values are plain Python/JSON values (dict, list, str, int, float, bool, None, bytes) plus a few
classes for CEL types that JSON lacks (types, durations, timestamps). Errors are raised as
`CelError`; the compiler's logical operators catch them to give CEL's commutative semantics.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1
UINT64_MAX: Final = 2**64 - 1


class CelError(Exception):
    """A CEL evaluation error (``no such key: x``, ``no such overload``...)."""


def no_overload(name: str = "") -> CelError:
    """The error cel-go gives when no function overload matches the argument types."""
    return CelError(f"no such overload{': ' + name if name else ''}")


class UInt(int):
    """A CEL ``uint`` (an int that remembers it is unsigned)."""

    __slots__ = ()


class CelType:
    """A CEL type value, as returned by ``type(x)`` and named by ``int``, ``string``..."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CelType) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("CelType", self.name))

    def __repr__(self) -> str:
        return self.name


TYPES: Final = {
    name: CelType(name)
    for name in (
        "int",
        "uint",
        "double",
        "bool",
        "string",
        "bytes",
        "list",
        "map",
        "null_type",
        "type",
        "google.protobuf.Duration",
        "google.protobuf.Timestamp",
    )
}
TYPES["duration"] = TYPES["google.protobuf.Duration"]
TYPES["timestamp"] = TYPES["google.protobuf.Timestamp"]


def type_of(value: Any) -> CelType:
    """The CEL type of a runtime value."""
    if isinstance(value, bool):
        return TYPES["bool"]
    if isinstance(value, UInt):
        return TYPES["uint"]
    if isinstance(value, int):
        return TYPES["int"]
    if isinstance(value, float):
        return TYPES["double"]
    if isinstance(value, str):
        return TYPES["string"]
    if isinstance(value, bytes):
        return TYPES["bytes"]
    if isinstance(value, list):
        return TYPES["list"]
    if isinstance(value, dict):
        return TYPES["map"]
    if value is None:
        return TYPES["null_type"]
    if isinstance(value, CelType):
        return TYPES["type"]
    if isinstance(value, dt.timedelta):
        return TYPES["google.protobuf.Duration"]
    if isinstance(value, dt.datetime):
        return TYPES["google.protobuf.Timestamp"]
    name = getattr(value, "cel_type_name", None)
    if isinstance(name, str):
        return CelType(name)
    raise no_overload("type")


def check_int(value: int) -> int:
    """Raise CEL's overflow error outside int64."""
    if value < INT64_MIN or value > INT64_MAX:
        raise CelError("integer overflow")
    return value


def check_uint(value: int) -> UInt:
    """Raise CEL's overflow error outside uint64."""
    if value < 0 or value > UINT64_MAX:
        raise CelError("unsigned integer overflow")
    return UInt(value)


def is_number(value: Any) -> bool:
    """True for int, uint and double (never bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def cel_eq(a: Any, b: Any) -> bool:
    """CEL heterogeneous equality: different kinds are unequal, numbers compare by value."""
    ta, tb = type(a), type(b)
    if ta is tb and ta in (str, int, float, bool, bytes, type(None)):
        return bool(a == b)
    if ta is bool or tb is bool:
        return False
    if is_number(a) and is_number(b):
        return bool(a == b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(cel_eq(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        if len(a) != len(b):
            return False
        return all(key in b and cel_eq(value, b[key]) for key, value in a.items())
    if type_of(a) != type_of(b):
        return False
    return bool(a == b)


def cel_lt(a: Any, b: Any) -> bool:
    """CEL ordering: same kind (numbers mix), else no such overload."""
    if is_number(a) and is_number(b):
        return bool(a < b)
    ta = type(a)
    if ta is type(b) and ta in (str, bytes, bool, dt.timedelta, dt.datetime):
        return bool(a < b)
    if hasattr(a, "cel_compare") and type(a) is type(b):
        return bool(a.cel_compare(b) < 0)
    raise no_overload("_<_")


def cel_in(item: Any, container: Any) -> bool:
    """``item in container`` for lists (by CEL equality) and maps (by key)."""
    if isinstance(container, list):
        return any(cel_eq(item, x) for x in container)
    if isinstance(container, dict):
        if isinstance(item, bool | str | bytes) or item is None:
            return item in container
        if is_number(item):
            return any(is_number(k) and k == item for k in container)
        return False
    raise no_overload("@in")


def cel_truth(value: Any) -> bool:
    """A condition's value: exactly a bool, else no such overload."""
    if value is True or value is False:
        return value
    raise no_overload("bool expected")


def format_double(value: float) -> str:
    """Format a double like cel-go's string(double)."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def to_string(value: Any) -> str:
    """CEL ``string(x)``."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_double(value)
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CelError("invalid UTF-8 in bytes") from exc
    if isinstance(value, dt.timedelta):
        return format_duration(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if hasattr(value, "cel_string"):
        return str(value.cel_string())
    raise no_overload("string")


def format_duration(value: dt.timedelta) -> str:
    """A duration the way cel-go prints it (seconds with a trailing ``s``)."""
    total = value.total_seconds()
    return f"{int(total)}s" if total == int(total) else f"{total}s"


def parse_duration(text: str) -> dt.timedelta:
    """Parse a Go duration string (``1h30m``, ``-1.5s``, ``300ms``)."""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
    s = text.strip()
    sign = -1.0 if s.startswith("-") else 1.0
    s = s.lstrip("+-")
    if s == "0":
        return dt.timedelta(0)
    total, i = 0.0, 0
    if not s:
        raise CelError(f"invalid duration {text!r}")
    while i < len(s):
        j = i
        while j < len(s) and (s[j].isdigit() or s[j] == "."):
            j += 1
        k = j
        while k < len(s) and not (s[k].isdigit() or s[k] == "."):
            k += 1
        number, unit = s[i:j], s[j:k]
        if not number or unit not in units:
            raise CelError(f"invalid duration {text!r}")
        total += float(number) * units[unit]
        i = k
    return dt.timedelta(seconds=sign * total)


def parse_timestamp(text: str) -> dt.datetime:
    """Parse an RFC 3339 timestamp."""
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise CelError(f"invalid timestamp {text!r}") from exc
    if value.tzinfo is None:
        raise CelError(f"invalid timestamp {text!r}: a time zone offset is required")
    return value
