"""A TCP relay in front of the gRPC server so a fault can really drop client connections.

grpcio cannot close one client's connection from a handler; the relay owns the client-facing
sockets and can abort all of them at once (the client sees a reset, gRPC UNAVAILABLE). TLS
passes through untouched: the gRPC server behind it terminates TLS.
"""

from __future__ import annotations

import asyncio
import contextlib


class Relay:
    """Accepts on ``host:0`` and pipes bytes to ``backend``; `drop_all` resets every connection."""

    def __init__(self, backend_host: str, backend_port: int) -> None:
        self._backend = (backend_host, backend_port)
        self._server: asyncio.Server | None = None
        self._conns: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen and return the bound port."""
        self._server = await asyncio.start_server(self._accept, host, port)
        return int(self._server.sockets[0].getsockname()[1])

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(5):
                b_reader, b_writer = await asyncio.open_connection(*self._backend)
        except (OSError, TimeoutError):
            writer.transport.abort()
            return
        pair = (writer, b_writer)
        self._conns.add(pair)
        try:
            await asyncio.gather(self._pipe(reader, b_writer), self._pipe(b_reader, writer))
        finally:
            self._conns.discard(pair)
            for w in pair:
                w.transport.abort()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            with contextlib.suppress(OSError, RuntimeError):
                if writer.can_write_eof():
                    writer.write_eof()

    def drop_all(self) -> int:
        """Abort every open connection (both sides); return how many were dropped."""
        conns = list(self._conns)
        for client, backend in conns:
            client.transport.abort()
            backend.transport.abort()
        return len(conns)

    async def close(self) -> None:
        """Stop listening and drop every connection."""
        if self._server is not None:
            self._server.close()
        self.drop_all()
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2):
                    await self._server.wait_closed()
