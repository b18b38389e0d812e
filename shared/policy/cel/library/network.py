"""Kubernetes CEL IP and CIDR library."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any, Final

from shared.policy.cel.library.args import Function, fail, string_arg
from shared.policy.cel.values import (
    CelError,
    no_overload,
)


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
    text = string_arg(value, "ip")
    try:
        addr = ipaddress.ip_address(text)
    except ValueError as exc:
        raise CelError(f"IP Address {text!r} parse error during conversion from string") from exc
    if isinstance(addr, ipaddress.IPv6Address) and (addr.ipv4_mapped or addr.scope_id):
        raise CelError(f"IP Address {text!r} with a zone or an IPv4-mapped form is not allowed")
    return IP(addr)


def cidr(value: Any) -> CIDR:
    """cidr('10.0.0.0/8')."""
    text = string_arg(value, "cidr")
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


GLOBALS: Final[dict[str, Function]] = {"ip": ip, "isIP": _is(ip), "cidr": cidr, "isCIDR": _is(cidr)}

MEMBERS: Final[dict[str, Function]] = {
    "family": _family,
    "isUnspecified": lambda v: (
        v.addr.is_unspecified if isinstance(v, IP) else fail("isUnspecified")
    ),
    "isLoopback": lambda v: v.addr.is_loopback if isinstance(v, IP) else fail("isLoopback"),
    "isLinkLocalMulticast": lambda v: (
        v.addr.is_multicast and v.addr.is_link_local if isinstance(v, IP) else fail("x")
    ),
    "isLinkLocalUnicast": lambda v: (
        v.addr.is_link_local and not v.addr.is_multicast if isinstance(v, IP) else fail("x")
    ),
    "isGlobalUnicast": lambda v: v.addr.is_global if isinstance(v, IP) else fail("x"),
    "containsIP": _contains_ip,
    "containsCIDR": _contains_cidr,
    "prefixLength": lambda c: c.iface.network.prefixlen if isinstance(c, CIDR) else fail("x"),
    "masked": lambda c: (
        CIDR(ipaddress.ip_interface(str(c.iface.network))) if isinstance(c, CIDR) else fail("x")
    ),
    "ip": lambda c: IP(c.iface.ip) if isinstance(c, CIDR) else fail("ip"),
}
