"""Render values the way the kube-apiserver (Go) prints them in error messages."""

from __future__ import annotations

import json
import math
import unicodedata
from typing import Any

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


def go_float(value: float) -> str:
    """Go's %v for a float64."""
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value != value:
        return "NaN"
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, exp = text.split("e")
        sign = "-" if exp.startswith("-") else "+"
        return f"{mantissa}e{sign}{exp.lstrip('+-').zfill(2)}"
    return text


def go_repr(value: Any, nested: bool = False) -> str:
    """Go's rendering of a bad value in a field.Error (%q, %v or %#v by type)."""
    if value is None:
        return "interface {}(nil)" if nested else '"null"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
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
    """encoding/json's float64: shortest 'f' form in [1e-6, 1e21), else 'e' with a short exponent."""
    if value == 0:
        return "0"
    if 1e-6 <= abs(value) < 1e21:
        text = repr(value)
        if "e" in text:  # Python switches to exponent form earlier than Go does
            text = f"{value:.{max(0, -math.floor(math.log10(abs(value))) + 16)}f}"
            text = text.rstrip("0").rstrip(".")
        return text[:-2] if text.endswith(".0") else text
    mantissa, _, exp = repr(value).partition("e")
    sign = "-" if exp.startswith("-") else "+"
    mantissa = mantissa[:-2] if mantissa.endswith(".0") else mantissa
    return f"{mantissa}e{sign}{exp.lstrip('+-').lstrip('0') or '0'}"


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
        return str(value)
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
