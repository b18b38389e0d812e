"""Kubernetes CEL URL library."""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlsplit

from shared.policy.cel.library.args import Function, string_arg
from shared.policy.cel.values import (
    CelError,
    no_overload,
)


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
    return URL(string_arg(value, "url"))


def is_url(value: Any) -> bool:
    """isURL(s)."""
    try:
        URL(string_arg(value, "isURL"))
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


GLOBALS: Final[dict[str, Function]] = {"url": url, "isURL": is_url}

MEMBERS: Final[dict[str, Function]] = {
    "getScheme": get_scheme,
    "getHost": get_host,
    "getHostname": get_hostname,
    "getPort": get_port,
    "getEscapedPath": get_escaped_path,
    "getQuery": get_query,
}
