"""CEL functions: the standard library plus the Kubernetes extensions cel-python lacks.

Kubernetes CRD validation rules may call the strings extension (``trim``, ``split``...), the
Kubernetes ``lists``, ``regex``, ``url``, ``quantity``, ``ip``/``cidr`` and ``sets`` libraries.
Each function takes already-evaluated arguments and raises `CelError` for bad input; member
functions receive their target first.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import re
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import urlsplit

from shared.policy.cel_quantity import Quantity, parse_quantity
from shared.policy.cel_values import (
    TYPES,
    CelError,
    UInt,
    cel_eq,
    cel_lt,
    check_int,
    check_uint,
    is_number,
    no_overload,
    parse_duration,
    parse_timestamp,
    to_string,
    type_of,
)

Function = Callable[..., Any]


@functools.lru_cache(maxsize=512)
def compile_regex(pattern: str) -> re.Pattern[str]:
    """Compile an RE2-style pattern once (Python's re accepts the RE2 subset rules use)."""
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise CelError(f"invalid regular expression {pattern!r}: {exc}") from exc


def _str(value: Any, fn: str) -> str:
    if not isinstance(value, str):
        raise no_overload(fn)
    return value


def _int(value: Any, fn: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise no_overload(fn)
    return value


# --- standard library -----------------------------------------------------------------


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
    return parse_duration(_str(value, "duration"))


def timestamp(value: Any) -> dt.datetime:
    """timestamp('2006-01-02T15:04:05Z')."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    return parse_timestamp(_str(value, "timestamp"))


def matches(text: Any, pattern: Any) -> bool:
    """text.matches(re): RE2 search semantics (unanchored)."""
    return compile_regex(_str(pattern, "matches")).search(_str(text, "matches")) is not None


def contains(text: Any, sub: Any) -> bool:
    """string.contains(sub)."""
    return _str(sub, "contains") in _str(text, "contains")


def starts_with(text: Any, prefix: Any) -> bool:
    """string.startsWith(prefix)."""
    return _str(text, "startsWith").startswith(_str(prefix, "startsWith"))


def ends_with(text: Any, suffix: Any) -> bool:
    """string.endsWith(suffix)."""
    return _str(text, "endsWith").endswith(_str(suffix, "endsWith"))


# --- strings extension -----------------------------------------------------------------


def char_at(text: Any, index: Any) -> str:
    """'abc'.charAt(1) == 'b'; index == size is ''."""
    s, i = _str(text, "charAt"), _int(index, "charAt")
    if i < 0 or i > len(s):
        raise CelError(f"index out of range: {i}")
    return s[i : i + 1]


def index_of(target: Any, sub: Any, offset: Any = 0) -> int:
    """string.indexOf(sub[, offset]) or list.indexOf(value)."""
    if isinstance(target, list):
        return next((i for i, x in enumerate(target) if cel_eq(x, sub)), -1)
    s, needle, start = _str(target, "indexOf"), _str(sub, "indexOf"), _int(offset, "indexOf")
    if start < 0 or start > len(s):
        raise CelError(f"index out of range: {start}")
    return s.find(needle, start)


def last_index_of(target: Any, sub: Any, offset: Any = None) -> int:
    """string.lastIndexOf(sub[, offset]) or list.lastIndexOf(value)."""
    if isinstance(target, list):
        return next((i for i in range(len(target) - 1, -1, -1) if cel_eq(target[i], sub)), -1)
    s, needle = _str(target, "lastIndexOf"), _str(sub, "lastIndexOf")
    end = len(s) if offset is None else _int(offset, "lastIndexOf")
    if end < 0 or end > len(s):
        raise CelError(f"index out of range: {end}")
    return s.rfind(needle, 0, end + len(needle))


def lower_ascii(text: Any) -> str:
    """Lower-case ASCII letters only."""
    return "".join(c.lower() if c.isascii() else c for c in _str(text, "lowerAscii"))


def upper_ascii(text: Any) -> str:
    """Upper-case ASCII letters only."""
    return "".join(c.upper() if c.isascii() else c for c in _str(text, "upperAscii"))


def replace(text: Any, old: Any, new: Any, limit: Any = -1) -> str:
    """string.replace(old, new[, n])."""
    n = _int(limit, "replace")
    return _str(text, "replace").replace(_str(old, "replace"), _str(new, "replace"), n)


def split(text: Any, sep: Any, limit: Any = -1) -> list[str]:
    """string.split(sep[, n]) with Go's strings.SplitN semantics."""
    s, d, n = _str(text, "split"), _str(sep, "split"), _int(limit, "split")
    if n == 0:
        return []
    if d == "":
        parts = list(s)
        if n > 0 and len(parts) > n:
            parts = [*parts[: n - 1], "".join(parts[n - 1 :])]
        return parts
    return s.split(d, n - 1) if n > 0 else s.split(d)


def substring(text: Any, start: Any, end: Any = None) -> str:
    """string.substring(start[, end]) by code points."""
    s = _str(text, "substring")
    a = _int(start, "substring")
    b = len(s) if end is None else _int(end, "substring")
    if a < 0 or a > len(s) or b < a or b > len(s):
        raise CelError(f"index out of range: substring({a}, {b}) of a string of size {len(s)}")
    return s[a:b]


def trim(text: Any) -> str:
    """Strip leading and trailing Unicode white space."""
    return _str(text, "trim").strip()


def join(items: Any, sep: Any = "") -> str:
    """list(string).join([sep])."""
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
        raise no_overload("join")
    return _str(sep, "join").join(items)


def reverse(text: Any) -> str:
    """Reverse a string by code points."""
    return _str(text, "reverse")[::-1]


def quote(text: Any) -> str:
    """strings.quote(s): a double-quoted, escaped string."""
    s = _str(text, "quote")
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


# --- Kubernetes lists and regex libraries ----------------------------------------------------


def is_sorted(items: Any) -> bool:
    """list.isSorted()."""
    if not isinstance(items, list):
        raise no_overload("isSorted")
    return all(not cel_lt(items[i + 1], items[i]) for i in range(len(items) - 1))


def list_sum(items: Any) -> Any:
    """list.sum() of numbers (0 for an empty list)."""
    if not isinstance(items, list):
        raise no_overload("sum")
    total: Any = 0
    for x in items:
        if not is_number(x) and not isinstance(x, dt.timedelta):
            raise no_overload("sum")
        total = total + x
    return check_int(total) if isinstance(total, int) else total


def list_min(items: Any) -> Any:
    """list.min()."""
    if not isinstance(items, list) or not items:
        raise CelError("min called on an empty list")
    best = items[0]
    for x in items[1:]:
        if cel_lt(x, best):
            best = x
    return best


def list_max(items: Any) -> Any:
    """list.max()."""
    if not isinstance(items, list) or not items:
        raise CelError("max called on an empty list")
    best = items[0]
    for x in items[1:]:
        if cel_lt(best, x):
            best = x
    return best


def find(text: Any, pattern: Any) -> str:
    """string.find(re): the first match or ''."""
    m = compile_regex(_str(pattern, "find")).search(_str(text, "find"))
    return m.group(0) if m else ""


def find_all(text: Any, pattern: Any, limit: Any = -1) -> list[str]:
    """string.findAll(re[, n])."""
    n = _int(limit, "findAll")
    found = [
        m.group(0) for m in compile_regex(_str(pattern, "findAll")).finditer(_str(text, "findAll"))
    ]
    return found if n < 0 else found[:n]


# --- Kubernetes URL library ---------------------------------------------------------------


class URL:
    """A parsed URL value (Kubernetes ``url()``)."""

    cel_type_name = "kubernetes.URL"
    __slots__ = ("parts", "raw")

    def __init__(self, raw: str) -> None:
        self.raw = raw
        try:
            self.parts = urlsplit(raw)
            _ = self.parts.port
        except ValueError as exc:
            raise CelError(f"URL parse error during conversion from string: {raw!r}") from exc
        if not self.parts.scheme and not raw.startswith("/"):
            raise CelError(f"URL parse error during conversion from string: {raw!r}")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, URL) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash(self.raw)


def url(value: Any) -> URL:
    """url('https://example.com')."""
    return URL(_str(value, "url"))


def is_url(value: Any) -> bool:
    """isURL(s)."""
    try:
        URL(_str(value, "isURL"))
    except CelError:
        return False
    return True


def _url(value: Any, fn: str) -> URL:
    if not isinstance(value, URL):
        raise no_overload(fn)
    return value


def get_scheme(value: Any) -> str:
    """url.getScheme()."""
    return _url(value, "getScheme").parts.scheme


def get_host(value: Any) -> str:
    """url.getHost(): host with port, IPv6 in brackets."""
    return _url(value, "getHost").parts.netloc.rpartition("@")[2]


def get_hostname(value: Any) -> str:
    """url.getHostname()."""
    return _url(value, "getHostname").parts.hostname or ""


def get_port(value: Any) -> str:
    """url.getPort()."""
    port = _url(value, "getPort").parts.port
    return "" if port is None else str(port)


def get_escaped_path(value: Any) -> str:
    """url.getEscapedPath()."""
    return _url(value, "getEscapedPath").parts.path


def get_query(value: Any) -> dict[str, list[str]]:
    """url.getQuery()."""
    from urllib.parse import parse_qs

    return {k: v for k, v in parse_qs(_url(value, "getQuery").parts.query).items()}


# --- Kubernetes quantity library --------------------------------------------------------------


def quantity(value: Any) -> Quantity:
    """quantity('1Gi')."""
    return parse_quantity(_str(value, "quantity"))


def is_quantity(value: Any) -> bool:
    """isQuantity(s)."""
    try:
        parse_quantity(_str(value, "isQuantity"))
    except CelError:
        return False
    return True


def _q(value: Any, fn: str) -> Quantity:
    if isinstance(value, Quantity):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Quantity.from_int(value)
    raise no_overload(fn)


# --- Kubernetes ip/cidr library -------------------------------------------------------------


class IP:
    """An IP address value (Kubernetes ``ip()``)."""

    cel_type_name = "net.IP"
    __slots__ = ("addr",)

    def __init__(self, addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
        self.addr = addr

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IP) and other.addr == self.addr

    def __hash__(self) -> int:
        return hash(self.addr)

    def cel_string(self) -> str:
        return str(self.addr)


class CIDR:
    """A CIDR value (Kubernetes ``cidr()``)."""

    cel_type_name = "net.CIDR"
    __slots__ = ("iface",)

    def __init__(self, iface: ipaddress.IPv4Interface | ipaddress.IPv6Interface) -> None:
        self.iface = iface

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CIDR) and other.iface == self.iface

    def __hash__(self) -> int:
        return hash(self.iface)

    def cel_string(self) -> str:
        return str(self.iface)


def ip(value: Any) -> IP:
    """ip('10.0.0.1')."""
    text = _str(value, "ip")
    try:
        addr = ipaddress.ip_address(text)
    except ValueError as exc:
        raise CelError(f"IP Address {text!r} parse error during conversion from string") from exc
    if isinstance(addr, ipaddress.IPv6Address) and (addr.ipv4_mapped or addr.scope_id):
        raise CelError(f"IP Address {text!r} with a zone or an IPv4-mapped form is not allowed")
    return IP(addr)


def cidr(value: Any) -> CIDR:
    """cidr('10.0.0.0/8')."""
    text = _str(value, "cidr")
    if "/" not in text:
        raise CelError(f"network address {text!r} parse error during conversion from string")
    try:
        return CIDR(ipaddress.ip_interface(text))
    except ValueError as exc:
        raise CelError(
            f"network address {text!r} parse error during conversion from string"
        ) from exc


def _is(fn: Callable[[Any], Any]) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        try:
            fn(value)
        except CelError:
            return False
        return True

    return check


def _family(value: Any) -> int:
    if isinstance(value, IP):
        return value.addr.version
    if isinstance(value, CIDR):
        return value.iface.version
    raise no_overload("family")


def _contains_ip(net: Any, other: Any) -> bool:
    if not isinstance(net, CIDR):
        raise no_overload("containsIP")
    addr = (
        ip(other).addr if isinstance(other, str) else other.addr if isinstance(other, IP) else None
    )
    if addr is None:
        raise no_overload("containsIP")
    return addr in net.iface.network


def _contains_cidr(net: Any, other: Any) -> bool:
    if not isinstance(net, CIDR):
        raise no_overload("containsCIDR")
    sub = cidr(other) if isinstance(other, str) else other
    if not isinstance(sub, CIDR) or sub.iface.version != net.iface.version:
        return False
    return bool(sub.iface.network.subnet_of(net.iface.network))  # type: ignore[arg-type]


# --- sets library ------------------------------------------------------------------------------


def _lists(a: Any, b: Any, fn: str) -> tuple[list[Any], list[Any]]:
    if not isinstance(a, list) or not isinstance(b, list):
        raise no_overload(fn)
    return a, b


def sets_contains(a: Any, b: Any) -> bool:
    """sets.contains(a, b): every element of b is in a."""
    x, y = _lists(a, b, "sets.contains")
    return all(any(cel_eq(v, w) for w in x) for v in y)


def sets_equivalent(a: Any, b: Any) -> bool:
    """sets.equivalent(a, b)."""
    return sets_contains(a, b) and sets_contains(b, a)


def sets_intersects(a: Any, b: Any) -> bool:
    """sets.intersects(a, b)."""
    x, y = _lists(a, b, "sets.intersects")
    return any(any(cel_eq(v, w) for w in x) for v in y)


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


#: functions called as ``f(x, ...)``
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
    "matches": matches,
    "url": url,
    "isURL": is_url,
    "quantity": quantity,
    "isQuantity": is_quantity,
    "ip": ip,
    "isIP": _is(ip),
    "cidr": cidr,
    "isCIDR": _is(cidr),
    "sets.contains": sets_contains,
    "sets.equivalent": sets_equivalent,
    "sets.intersects": sets_intersects,
    "strings.quote": quote,
}

#: functions called as ``x.f(...)``; the target is the first argument
MEMBERS: Final[dict[str, Function]] = {
    "size": size,
    "contains": contains,
    "startsWith": starts_with,
    "endsWith": ends_with,
    "matches": matches,
    "charAt": char_at,
    "indexOf": index_of,
    "lastIndexOf": last_index_of,
    "lowerAscii": lower_ascii,
    "upperAscii": upper_ascii,
    "replace": replace,
    "split": split,
    "substring": substring,
    "trim": trim,
    "join": join,
    "reverse": reverse,
    "isSorted": is_sorted,
    "sum": list_sum,
    "min": list_min,
    "max": list_max,
    "find": find,
    "findAll": find_all,
    "getScheme": get_scheme,
    "getHost": get_host,
    "getHostname": get_hostname,
    "getPort": get_port,
    "getEscapedPath": get_escaped_path,
    "getQuery": get_query,
    "sign": lambda q: _q(q, "sign").sign(),
    "isInteger": lambda q: _q(q, "isInteger").is_integer(),
    "asInteger": lambda q: _q(q, "asInteger").as_integer(),
    "asApproximateFloat": lambda q: _q(q, "asApproximateFloat").as_float(),
    "add": lambda q, o: _q(q, "add").add(_q(o, "add")),
    "sub": lambda q, o: _q(q, "sub").add(_q(o, "sub").negate()),
    "isGreaterThan": lambda q, o: _q(q, "isGreaterThan").cel_compare(_q(o, "isGreaterThan")) > 0,
    "isLessThan": lambda q, o: _q(q, "isLessThan").cel_compare(_q(o, "isLessThan")) < 0,
    "compareTo": lambda q, o: _q(q, "compareTo").cel_compare(_q(o, "compareTo")),
    "family": _family,
    "isUnspecified": lambda v: (
        v.addr.is_unspecified if isinstance(v, IP) else _raise("isUnspecified")
    ),
    "isLoopback": lambda v: v.addr.is_loopback if isinstance(v, IP) else _raise("isLoopback"),
    "isLinkLocalMulticast": lambda v: (
        v.addr.is_multicast and v.addr.is_link_local if isinstance(v, IP) else _raise("x")
    ),
    "isLinkLocalUnicast": lambda v: (
        v.addr.is_link_local and not v.addr.is_multicast if isinstance(v, IP) else _raise("x")
    ),
    "isGlobalUnicast": lambda v: v.addr.is_global if isinstance(v, IP) else _raise("x"),
    "containsIP": _contains_ip,
    "containsCIDR": _contains_cidr,
    "prefixLength": lambda c: c.iface.network.prefixlen if isinstance(c, CIDR) else _raise("x"),
    "masked": lambda c: (
        CIDR(ipaddress.ip_interface(str(c.iface.network))) if isinstance(c, CIDR) else _raise("x")
    ),
    "ip": lambda c: IP(c.iface.ip) if isinstance(c, CIDR) else _raise("ip"),
    **{
        name: _date_getter(name)
        for name in (
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
    },
}


def _raise(name: str) -> Any:
    raise no_overload(name)


def type_constant(name: str) -> Any:
    """The value of a type identifier (``int``, ``string``...) or None."""
    return TYPES.get(name)
