"""The webhook's body decoder gives exactly ``json.loads``' result, or the same 400."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webhook.handlers import _decode
from webhook.review import ReviewError

NUMBERS = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64 - 1, 2**64]),
    st.floats(allow_nan=False),
)
VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), NUMBERS, st.text(max_size=10)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=20,
)


def same(a: Any, b: Any) -> bool:
    """Equal with types (1 is not 1.0) and NaN-free floats compared exactly."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


@settings(max_examples=500, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))  # fmt: skip
@given(VALUES)
def test_same_as_json(value: Any) -> None:
    body = json.dumps(value).encode()
    assert same(_decode(body), json.loads(body))


@pytest.mark.parametrize(
    "body",
    [
        b"-9223372036854775809",
        b"18446744073709551616",
        b'{"a": 123456789012345678901234567890}',
        b'{"a": 1, "a": 2}',
        b'"\\ud800"',
        b"NaN",
        b"[1e400, -0, -0.0]",
        b"\xef\xbb\xbf{}",
    ],
)
def test_edge_cases(body: bytes) -> None:
    assert same(_decode(body), json.loads(body))


@pytest.mark.parametrize("body", [b"{", b"\xff", b"[" * 100_000])
def test_malformed(body: bytes) -> None:
    with pytest.raises(ReviewError, match="malformed JSON"):
        _decode(body)
