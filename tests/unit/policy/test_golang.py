"""Go's printing of float64 values, as the apiserver's messages show them.

The expected strings were produced by Go 1.26 (``fmt.Sprint(v)`` and ``json.Marshal(v)``)."""

from __future__ import annotations

import pytest

from shared.policy.golang import field_error_value, go_float, go_json, go_quote

CASES = [
    # value, %v, encoding/json
    (1024.0, "1024", "1024"),
    (123456.0, "123456", "123456"),
    (1234567.0, "1.234567e+06", "1234567"),
    (123456789.0, "1.23456789e+08", "123456789"),
    (7.068466144498585e16, "7.068466144498585e+16", "70684661444985850"),
    (1e20, "1e+20", "100000000000000000000"),
    (1e21, "1e+21", "1e+21"),
    (0.0001, "0.0001", "0.0001"),
    (0.000001, "1e-06", "0.000001"),
    (1.5e-7, "1.5e-07", "1.5e-7"),
    (-1234567.5, "-1.2345675e+06", "-1234567.5"),
    (0.1, "0.1", "0.1"),
    (5e-324, "5e-324", "5e-324"),
    (1.7976931348623157e308, "1.7976931348623157e+308", "1.7976931348623157e+308"),
]


@pytest.mark.parametrize(("value", "printed", "marshalled"), CASES)
def test_float64_as_go_prints_it(value: float, printed: str, marshalled: str) -> None:
    assert go_float(value) == printed
    assert go_json(value) == marshalled


def test_integers_beyond_int64_print_as_float64() -> None:
    assert field_error_value(2**64) == "1.8446744073709552e+19"
    assert go_json([1, 2**64, 2**63 - 1]) == "[1,18446744073709552000,9223372036854775807]"


def test_quote_knows_unicode_15_as_go_does() -> None:
    # U+317A6 (CJK Extension H, Unicode 15.0): printable for Go, unknown to Python 3.11's tables.
    assert go_quote("\U000317a6") == '"\U000317a6"'
    assert go_quote("\U000323b0") == '"\\U000323b0"'  # just past Extension H: unassigned
    assert go_quote("\u0089") == '"\\u0089"'
