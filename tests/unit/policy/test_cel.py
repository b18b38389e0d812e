"""CEL compiled to closures: Kubernetes semantics, error commutativity, library functions."""

from __future__ import annotations

from typing import Any

import pytest

from shared.policy.cel import CelCompileError, CelError, compile_cel


def run(expr: str, **env: Any) -> Any:
    return compile_cel(expr)(dict(env))


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("7 / -2", -3),  # truncates toward zero
        ("-7 % 2", -1),  # sign of the dividend
        ("1 == 1.0", True),  # heterogeneous numeric equality
        ("true == 1", False),  # but bools are not numbers
        ("[1, 'a'] == [1, 'a']", True),
        ("{'a': 1} == {'a': 1.0}", True),
        ("'abc' < 'abd'", True),
        ("1 < 2.5", True),
        ("2u + 3u", 5),
        ("'é'.size() == 1", True),
        ("b'\\xff'.size()", 1),
        ("'a' in ['a', 'b']", True),
        ("'k' in {'k': 1}", True),
        ("true ? 'y' : 'n'", "y"),
        ("null == null", True),
        ("type(1) == int && type('x') == string", True),
        ("int('42') + 1", 43),
        ("string(3.5)", "3.5"),
        ("double(1) / 2.0", 0.5),
        ("[1, 2, 3].all(x, x > 0)", True),
        ("[1, 2, 3].exists(x, x == 2)", True),
        ("[1, 2, 3].exists_one(x, x > 1)", False),
        ("[1, 2, 3].map(x, x * 10)", [10, 20, 30]),
        ("[1, 2, 3].map(x, x > 1, x)", [2, 3]),
        ("[1, 2, 3].filter(x, x % 2 == 1)", [1, 3]),
        ("{'a': 1, 'b': 2}.all(k, k.size() == 1)", True),
    ],
)
def test_standard_semantics(expr: str, expected: Any) -> None:
    assert run(expr) == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("'  pad  '.trim()", "pad"),
        ("'a,b,,c'.split(',')", ["a", "b", "", "c"]),
        ("'a,b,c'.split(',', 2)", ["a", "b,c"]),
        ("'hello'.charAt(1)", "e"),
        ("'hello'.indexOf('l')", 2),
        ("'hello'.lastIndexOf('l')", 3),
        ("'Hello'.lowerAscii()", "hello"),
        ("'hello'.upperAscii()", "HELLO"),
        ("'aaa'.replace('a', 'b', 2)", "bba"),
        ("'hello'.substring(1, 3)", "el"),
        ("['a', 'b'].join('-')", "a-b"),
        ("'abc'.reverse()", "cba"),
        ("[1, 2, 3].isSorted()", True),
        ("[3, 1].isSorted()", False),
        ("[1, 2, 3].sum()", 6),
        ("[4, 2, 9].min()", 2),
        ("[4, 2, 9].max()", 9),
        ("['a', 'b'].indexOf('b')", 1),
        ("'abc123def456'.find('[0-9]+')", "123"),
        ("'abc123def456'.findAll('[0-9]+')", ["123", "456"]),
        ("'ghcr.io/x@sha256:ab'.matches('@sha256:')", True),
        ("url('https://example.com:8443/p?q=1').getHostname()", "example.com"),
        ("url('https://example.com:8443/p').getPort()", "8443"),
        ("url('https://example.com/p').getScheme()", "https"),
        ("url('https://example.com/a%20b').getEscapedPath()", "/a%20b"),
        ("isURL('not a url')", False),
        ("quantity('1Gi').isGreaterThan(quantity('1G'))", True),
        ("quantity('500m').compareTo(quantity('0.5'))", 0),
        ("quantity('2').add(3).asInteger()", 5),
        ("isQuantity('1Qq')", False),
        ("ip('10.0.0.1').family()", 4),
        ("cidr('10.0.0.0/8').containsIP('10.1.2.3')", True),
        ("isCIDR('10.0.0.1')", False),
        ("sets.contains([1, 2, 3], [1, 3])", True),
        ("sets.intersects([1, 2], [3])", False),
        ("sets.equivalent([1, 2], [2, 1])", True),
        ("duration('1h30m') > duration('90m')", False),
        ("timestamp('2026-01-01T00:00:00Z') < timestamp('2026-06-01T00:00:00Z')", True),
    ],
)
def test_kubernetes_library(expr: str, expected: Any) -> None:
    assert run(expr) == expected


def test_missing_field_is_no_such_key() -> None:
    with pytest.raises(CelError, match="no such key: x"):
        run("self.x == 1", self={})


def test_has_tests_presence_without_error() -> None:
    assert run("has(self.x)", self={}) is False
    assert run("has(self.x)", self={"x": None}) is True


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("self.missing || true", True),
        ("true || self.missing", True),
        ("self.missing && false", False),
        ("false && self.missing", False),
        ("[1, 0].exists(x, 1 / x == 1)", True),  # the division error does not matter
        ("[1, 0].all(x, x == 5 && 1 / x == 1)", False),
    ],
)
def test_logical_operators_are_commutative_over_errors(expr: str, expected: bool) -> None:
    assert run(expr, self={}) is expected


@pytest.mark.parametrize(
    "expr",
    [
        "self.missing || false",
        "self.missing && true",
        "[1, 0].all(x, 1 / x == 1)",
        "9223372036854775807 + 1",
        "1 / 0",
        "[1][3]",
        "{'a': 1}['b']",
        "1 + 'a'",
        "'x'.matches('[')",
        "int('nope')",
    ],
)
def test_errors(expr: str) -> None:
    with pytest.raises(CelError):
        run(expr, self={})


def test_reference_allowlist_rule_errors_only_with_allowed_user_ids_from() -> None:
    """agentharness §11.1: the reference rule lacks has(); CEL errors on the absent list."""
    rule = "!(size(self.allowedUserIDs) > 0 && has(self.allowedUserIDsFrom))"
    assert run(rule, self={}) is True  # error && false == false
    with pytest.raises(CelError, match="no such key"):
        run(rule, self={"allowedUserIDsFrom": {"type": "Secret", "name": "a", "key": "b"}})
    fixed = "!(has(self.allowedUserIDs) && size(self.allowedUserIDs) > 0 && has(self.allowedUserIDsFrom))"
    assert (
        run(fixed, self={"allowedUserIDsFrom": {"type": "Secret", "name": "a", "key": "b"}}) is True
    )


def test_transition_rule_identifiers() -> None:
    assert compile_cel("self == oldSelf").identifiers == {"self", "oldSelf"}
    assert compile_cel("self.all(x, x > 0)").identifiers == {"self"}


def test_escaped_property_names() -> None:
    assert run("self.foo__dash__bar == 1", self={"foo-bar": 1})
    assert run("self.__namespace__ == 'x'", self={"namespace": "x"})


@pytest.mark.parametrize("bad", ["self.", "1 +", "foo(", "self.x.unknownFn()", "has(self)"])
def test_compile_errors(bad: str) -> None:
    with pytest.raises(CelCompileError):
        compile_cel(bad)


def test_comprehension_variable_does_not_leak() -> None:
    prog = compile_cel("[1, 2].all(x, x > 0) && x == 7")
    assert prog({"x": 7}) is True
