"""String formats the kube-apiserver checks in CRD schemas (a subset of kube-openapi's registry)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import ipaddress
import re
from collections.abc import Callable
from typing import Final

_UUID: Final = re.compile(
    r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
)
_HOSTNAME: Final = re.compile(
    r"^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$"
)
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+$")
_DURATION: Final = re.compile(r"^[-+]?([0-9]*(\.[0-9]*)?[a-zµ]+)+$|^0$")
_DATE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MAC: Final = re.compile(r"^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$")


def _date_time(value: str) -> bool:
    try:
        dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return "T" in value.upper() or " " in value


def _date(value: str) -> bool:
    if not _DATE.match(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _ip(version: int) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        try:
            return ipaddress.ip_address(value).version == version
        except ValueError:
            return False

    return check


def _cidr(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return "/" in value


def _byte(value: str) -> bool:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


CHECKS: Final[dict[str, Callable[[str], bool]]] = {
    "date-time": _date_time,
    "datetime": _date_time,
    "date": _date,
    "uuid": lambda v: bool(_UUID.match(v)),
    "hostname": lambda v: bool(_HOSTNAME.match(v)) and len(v) <= 253,
    "email": lambda v: bool(_EMAIL.match(v)),
    "ipv4": _ip(4),
    "ipv6": _ip(6),
    "cidr": _cidr,
    "mac": lambda v: bool(_MAC.match(v)),
    "byte": _byte,
    "duration": lambda v: bool(_DURATION.match(v)),
}


def check(fmt: str, value: str) -> str | None:
    """None when ``value`` satisfies ``fmt`` (or the format is not checked), else the format."""
    checker = CHECKS.get(fmt)
    if checker is None or checker(value):
        return None
    return fmt
