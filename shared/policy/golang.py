"""Render values the way the kube-apiserver (Go) prints them in error messages."""

from __future__ import annotations

import json
import math
import unicodedata
from decimal import Decimal
from typing import Any

# The apiserver decodes a JSON integer beyond int64 as a float64 and prints it as one.
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

_QUOTE_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    '"': '\\"',
}
_NOT_PRINTABLE = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp", "Zs"})


def _quote_char(char: str) -> str:
    escape = _QUOTE_ESCAPES.get(char)
    if escape is not None:
        return escape
    if char == " " or unicodedata.category(char) not in _NOT_PRINTABLE:
        return char
    code = ord(char)
    if code < 0x80:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def go_quote(text: str) -> str:
    """Go's %q for a string (strconv.Quote: non-printable runes escaped, as unicode.IsPrint)."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return '"' + "".join(_quote_char(c) for c in text) + '"'


def _shortest_digits(value: float) -> tuple[str, int]:
    """The shortest decimal digits that round-trip ``abs(value)`` (as Go's strconv finds them)
    and the decimal point's position: ``abs(value) == 0.DIGITS * 10**point``."""
    _, digits, exponent = Decimal(repr(abs(value))).as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    point = len(text) + exponent
    stripped = text.rstrip("0")
    return stripped, point


def _exponent_form(digits: str, point: int, min_exp_digits: int) -> str:
    exp = point - 1
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{mantissa}e{'-' if exp < 0 else '+'}{str(abs(exp)).zfill(min_exp_digits)}"


def _fixed_form(digits: str, point: int) -> str:
    if point <= 0:
        return "0." + "0" * -point + digits
    if point >= len(digits):
        return digits + "0" * (point - len(digits))
    return digits[:point] + "." + digits[point:]


def _special_float(value: float) -> str | None:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value != value:
        return "NaN"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    return None


def go_float(value: float) -> str:
    """Go's %v for a float64 (strconv 'g', shortest: exponent form below 1e-4 or from 1e6)."""
    special = _special_float(value)
    if special is not None:
        return special
    digits, point = _shortest_digits(value)
    sign = "-" if value < 0 else ""
    if point - 1 < -4 or point - 1 >= 6:
        return sign + _exponent_form(digits, point, 2)
    return sign + _fixed_form(digits, point)


def go_repr(value: Any, nested: bool = False) -> str:
    """Go's rendering of a bad value in a field.Error (%q, %v or %#v by type)."""
    if value is None:
        return "interface {}(nil)" if nested else '"null"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if INT64_MIN <= value <= INT64_MAX else go_float(float(value))
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, dict):
        inner = ", ".join(
            f"{go_quote(str(k))}:{go_repr(v, True)}" for k, v in sorted(value.items())
        )
        return "map[string]interface {}{" + inner + "}"
    if isinstance(value, list):
        return "[]interface {}{" + ", ".join(go_repr(v, True) for v in value) + "}"
    return go_quote(str(value))


def to_go_type_name(value: Any) -> str:
    """A JSON-ish type name for values YAML may produce beyond JSON (dates, bytes...)."""
    return type(value).__name__


def _go_json_float(value: float) -> str:
    """encoding/json's float64: shortest fixed form in [1e-6, 1e21), else exponent form with
    a one-digit negative exponent kept short (``1e-7``, ``1e+21``)."""
    special = _special_float(value)
    if special is not None:
        return special
    digits, point = _shortest_digits(value)
    sign = "-" if value < 0 else ""
    if 1e-6 <= abs(value) < 1e21:
        return sign + _fixed_form(digits, point)
    text = _exponent_form(digits, point, 2)
    if text[-4:-1] == "e-0":
        text = text[:-2] + text[-1]
    return sign + text


_JSON_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def go_json(value: Any) -> str:
    """Go's ``json.Marshal`` of a decoded JSON value: compact, map keys sorted, HTML-escaped."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if INT64_MIN <= value <= INT64_MAX else _go_json_float(float(value))
    if isinstance(value, float):
        return _go_json_float(value)
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        for char, escape in _JSON_ESCAPES.items():
            text = text.replace(char, escape)
        return text
    if isinstance(value, dict):
        return (
            "{"
            + ",".join(f"{go_json(str(k))}:{go_json(v)}" for k, v in sorted(value.items()))
            + "}"
        )
    if isinstance(value, list | tuple):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    return go_json(str(value))


def field_error_value(value: Any) -> str:
    """How a ``field.Error`` (apimachinery 1.37) prints its bad value: ``null`` for nil, ``%v``
    for numbers and booleans, ``%q`` for strings, JSON for anything else."""
    if value is None:
        return "null"
    if isinstance(value, bool | int | float | str):
        return go_repr(value)
    return go_json(value)
