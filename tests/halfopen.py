"""Clients that open connections and never finish a request (issue 15 item 1), for the tests
of every listener: open them, then wait for the server to close them."""

from __future__ import annotations

import asyncio
import ssl
import time
from urllib.parse import urlsplit


def address(url: str) -> tuple[str, int]:
    """``(host, port)`` of ``scheme://host:port``."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


class HalfOpen:
    """Connections that sent ``partial`` and wait; `close` closes them from our side."""

    def __init__(self) -> None:
        self._writers: list[asyncio.StreamWriter] = []
        """Kept: a collected StreamWriter would close its connection from our side."""

    async def open(
        self, url: str, partial: bytes, ctx: ssl.SSLContext | None = None
    ) -> asyncio.StreamReader:
        """Connect (TLS when ``ctx``), send ``partial``, return the reader."""
        host, port = address(url)
        reader, writer = await asyncio.open_connection(host, port, ssl=ctx)
        self._writers.append(writer)
        if partial:
            writer.write(partial)
            await writer.drain()
        return reader

    def close(self) -> None:
        """Close every connection still open."""
        for writer in self._writers:
            writer.close()
        self._writers.clear()


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> float:
    """Seconds until the server closed the connection (EOF or reset); fails after ``seconds``."""
    started = time.monotonic()
    async with asyncio.timeout(seconds):
        try:
            while await reader.read(1024):
                pass
        except (ConnectionError, ssl.SSLError):
            pass
    return time.monotonic() - started
