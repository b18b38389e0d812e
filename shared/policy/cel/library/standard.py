"""CEL standard functions: size, type conversions, durations and timestamps."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from shared.policy.cel.library.args import Function, string_arg
from shared.policy.cel.values import (
    CelError,
    UInt,
    check_int,
    check_uint,
    is_number,
    no_overload,
    parse_duration,
    parse_timestamp,
    to_string,
    type_of,
)


def size(value: Any) -> int:
    """size() of a string (code points), bytes, list or map."""
    if isinstance(value, str | bytes | list | dict):
        return len(value)
    raise no_overload("size")


def to_int(value: Any) -> int:
    """int(x)."""
    if isinstance(value, bool):
        raise no_overload("int")
    if isinstance(value, int):
        return check_int(int(value))
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise CelError("integer overflow")
        return check_int(int(value))
    if isinstance(value, str):
        try:
            return check_int(int(value, 10))
        except ValueError as exc:
            raise CelError(f"cannot convert {value!r} to int") from exc
    if isinstance(value, dt.datetime):
        return int(value.timestamp())
    raise no_overload("int")


def to_uint(value: Any) -> UInt:
    """uint(x)."""
    if isinstance(value, bool):
        raise no_overload("uint")
    if isinstance(value, int | float):
        return check_uint(int(value))
    if isinstance(value, str):
        try:
            return check_uint(int(value, 10))
        except ValueError as exc:
            raise CelError(f"cannot convert {value!r} to uint") from exc
    raise no_overload("uint")


def to_double(value: Any) -> float:
    """double(x)."""
    if is_number(value):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError as exc:
            raise CelError(f"cannot convert {value!r} to double") from exc
    raise no_overload("double")


def to_bool(value: Any) -> bool:
    """bool(x)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        if value in ("true", "True", "TRUE", "t", "1"):
            return True
        if value in ("false", "False", "FALSE", "f", "0"):
            return False
        raise CelError(f"cannot convert {value!r} to bool")
    raise no_overload("bool")


def to_bytes(value: Any) -> bytes:
    """bytes(x)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise no_overload("bytes")


def duration(value: Any) -> dt.timedelta:
    """duration('1h')."""
    if isinstance(value, dt.timedelta):
        return value
    return parse_duration(string_arg(value, "duration"))


def timestamp(value: Any) -> dt.datetime:
    """timestamp('2006-01-02T15:04:05Z')."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    return parse_timestamp(string_arg(value, "timestamp"))


def _date_getter(attr: str) -> Function:
    def get(value: Any, tz: Any = None) -> int:
        if isinstance(value, dt.timedelta):
            seconds = value.total_seconds()
            table = {"getHours": 3600, "getMinutes": 60, "getSeconds": 1}
            if attr in table:
                return int(seconds // table[attr])
            if attr == "getMilliseconds":
                return int(seconds * 1000)
            raise no_overload(attr)
        if not isinstance(value, dt.datetime):
            raise no_overload(attr)
        v = value.astimezone(dt.UTC)
        return {
            "getFullYear": lambda: v.year,
            "getMonth": lambda: v.month - 1,
            "getDate": lambda: v.day,
            "getDayOfMonth": lambda: v.day - 1,
            "getDayOfWeek": lambda: (v.weekday() + 1) % 7,
            "getDayOfYear": lambda: v.timetuple().tm_yday - 1,
            "getHours": lambda: v.hour,
            "getMinutes": lambda: v.minute,
            "getSeconds": lambda: v.second,
            "getMilliseconds": lambda: v.microsecond // 1000,
        }[attr]()

    return get


GLOBALS: Final[dict[str, Function]] = {
    "size": size,
    "int": to_int,
    "uint": to_uint,
    "double": to_double,
    "string": to_string,
    "bool": to_bool,
    "bytes": to_bytes,
    "type": type_of,
    "dyn": lambda v: v,
    "duration": duration,
    "timestamp": timestamp,
}

DATE_GETTERS: Final = (
    "getFullYear",
    "getMonth",
    "getDate",
    "getDayOfMonth",
    "getDayOfWeek",
    "getDayOfYear",
    "getHours",
    "getMinutes",
    "getSeconds",
    "getMilliseconds",
)

MEMBERS: Final[dict[str, Function]] = {
    "size": size,
    **{name: _date_getter(name) for name in DATE_GETTERS},
}
