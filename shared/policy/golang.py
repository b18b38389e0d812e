"""Render values the way the kube-apiserver (Go) prints them in error messages."""

from __future__ import annotations

import json
import math
from typing import Any


def go_quote(text: str) -> str:
    """Go's %q for a string (close to strconv.Quote for printable text)."""
    return json.dumps(text, ensure_ascii=False)


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
