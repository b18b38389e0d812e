"""Kubernetes resource quantities for the CEL ``quantity`` library (``1Gi``, ``500m``, ``1e3``)."""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Final

from shared.policy.cel.values import CelError, check_int

_BINARY: Final = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL: Final = {
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 10**3),
    "": Fraction(1),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
}
_SYNTAX: Final = re.compile(r"^([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))([eE][+-]?[0-9]+|[a-zA-Z]*)$")


class Quantity:
    """An exact quantity value."""

    cel_type_name = "kubernetes.Quantity"
    __slots__ = ("value",)

    def __init__(self, value: Fraction) -> None:
        self.value = value

    @classmethod
    def from_int(cls, value: int) -> Quantity:
        """A quantity from an int."""
        return cls(Fraction(value))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Quantity) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)

    def cel_compare(self, other: Quantity) -> int:
        """-1, 0 or 1."""
        return (self.value > other.value) - (self.value < other.value)

    def sign(self) -> int:
        """-1, 0 or 1."""
        return (self.value > 0) - (self.value < 0)

    def is_integer(self) -> bool:
        """Whether asInteger() would succeed."""
        return self.value.denominator == 1 and -(2**63) <= self.value <= 2**63 - 1

    def as_integer(self) -> int:
        """The integer value; an error when fractional or out of range."""
        if self.value.denominator != 1:
            raise CelError("cannot convert a fractional quantity to an integer")
        return check_int(int(self.value))

    def as_float(self) -> float:
        """An approximate float."""
        return float(self.value)

    def add(self, other: Quantity) -> Quantity:
        """self + other."""
        return Quantity(self.value + other.value)

    def negate(self) -> Quantity:
        """-self."""
        return Quantity(-self.value)


def parse_quantity(text: str) -> Quantity:
    """Parse a Kubernetes quantity string."""
    m = _SYNTAX.match(text.strip()) if text else None
    if not m:
        raise CelError(f"quantities must match the regular expression '{_SYNTAX.pattern}'")
    number, suffix = m.groups()
    value = Fraction(number)
    if suffix in _BINARY:
        return Quantity(value * _BINARY[suffix])
    if suffix in _DECIMAL:
        return Quantity(value * _DECIMAL[suffix])
    if suffix[:1] in ("e", "E"):
        return Quantity(value * Fraction(10) ** int(suffix[1:]))
    raise CelError(f"unable to parse quantity's suffix {suffix!r}")
