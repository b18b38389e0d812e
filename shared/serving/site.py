"""`BoundedSite`: an aiohttp site whose accept loop enforces `ListenerLimits`.

aiohttp's `TCPSite` hands every accepted socket to the event loop, which allocates TLS state
(a 256 KiB read buffer per connection in CPython's ``sslproto``) before the application sees
anything, and times out neither the handshake of a client that never finishes nor a request line
that never ends. Here the accept loop is ours:

- a connection counts from ``accept``; the TLS handshake, the request line and the headers of
  its first request must complete within ``header_timeout`` or it is closed;
- between requests a kept-alive connection may idle for ``idle_timeout`` (aiohttp's keep-alive
  timer, which also closes a next request whose headers do not arrive in that time);
- at most ``max_connections`` are open: a new one first evicts the oldest connection that has
  not yet sent complete headers (a slow or half-open client), else it is refused (closed).

Only public asyncio calls are used (``sock_accept``, ``connect_accepted_socket``); aiohttp's
request handler is wrapped, not changed, so everything it does (parsing caps, keep-alive,
WebSocket upgrade, graceful shutdown) stays as it is.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import ssl

from aiohttp import web

from shared.serving.limits import ListenerLimits
from shared.serving.memory import pin_mmap_threshold

log = logging.getLogger(__name__)

_HEADERS_END = b"\r\n\r\n"
_HANDSHAKES = 4
"""TLS handshakes run at once per listener. Each step of a handshake is a slice of CPU on the
event loop; a flood of them would queue in front of every request already being served, so
the rest wait (their header deadline running) until one finishes."""
_ACCEPT_RETRY = 0.1
"""Seconds to wait after accept fails for lack of file descriptors (EMFILE/ENFILE)."""


class _Conn:
    """One accepted connection: when it started, how far it got, what closes it."""

    __slots__ = ("done", "tail", "task", "timer", "transport")

    def __init__(self) -> None:
        self.done = False
        """The first request's headers are complete."""
        self.tail = b""
        self.task: asyncio.Task[None] | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.transport: asyncio.BaseTransport | None = None


class _Guard(asyncio.Protocol):
    """Wraps aiohttp's request handler: watches for the end of the first request's headers."""

    def __init__(self, owner: _Listener, conn: _Conn, inner: asyncio.Protocol) -> None:
        self._owner = owner
        self._conn = conn
        self._inner = inner

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._conn.transport = transport
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        conn = self._conn
        if not conn.done:
            seen = conn.tail + data
            if _HEADERS_END in seen:
                self._owner.headers_complete(conn)
            else:
                conn.tail = seen[-3:]
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._owner.forget(self._conn)
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


class _Listener(asyncio.AbstractServer):
    """The accept loop and the open connections of one listening socket."""

    def __init__(
        self,
        sock: socket.socket,
        factory: web.Server,
        ssl_context: ssl.SSLContext | None,
        limits: ListenerLimits,
    ) -> None:
        self.sockets = (sock,)
        self._sock = sock
        self._factory = factory
        self._ssl = ssl_context
        self._limits = limits
        self._conns: dict[_Conn, None] = {}
        """Open connections, oldest first (dicts keep insertion order)."""
        self._loop = asyncio.get_running_loop()
        self._accepting: asyncio.Task[None] | None = None
        self._handshakes = asyncio.Semaphore(_HANDSHAKES)
        self.evicted = 0
        self.refused = 0

    @property
    def open_connections(self) -> int:
        """Connections accepted and not yet closed."""
        return len(self._conns)

    def start(self) -> None:
        """Start accepting."""
        self._sock.setblocking(False)
        self._accepting = self._loop.create_task(self._accept_loop())

    async def _accept_loop(self) -> None:
        while True:
            try:
                conn, _ = await self._loop.sock_accept(self._sock)
            except (ConnectionAbortedError, InterruptedError):
                continue
            except OSError as exc:
                if exc.errno not in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    raise
                log.warning("accept failed (%s); retrying in %.1fs", exc.strerror, _ACCEPT_RETRY)
                await asyncio.sleep(_ACCEPT_RETRY)
                continue
            if len(self._conns) >= self._limits.max_connections and not self._evict_one():
                self.refused += 1
                conn.close()
                continue
            self._open(conn)

    def _evict_one(self) -> bool:
        """Close the oldest connection that has not sent complete headers; False if none."""
        for conn in self._conns:
            if not conn.done:
                self.evicted += 1
                self._close(conn)
                return True
        return False

    def _open(self, sock: socket.socket) -> None:
        conn = _Conn()
        self._conns[conn] = None
        conn.timer = self._loop.call_later(self._limits.header_timeout, self._expire, conn)
        conn.task = self._loop.create_task(self._connect(conn, sock))

    async def _connect(self, conn: _Conn, sock: socket.socket) -> None:
        def protocol() -> asyncio.Protocol:
            return _Guard(self, conn, self._factory())

        try:
            if self._ssl is None:
                await self._loop.connect_accepted_socket(protocol, sock)
            else:
                async with self._handshakes:
                    await self._loop.connect_accepted_socket(
                        protocol,
                        sock,
                        ssl=self._ssl,
                        ssl_handshake_timeout=self._limits.header_timeout,
                    )
        except (OSError, ssl.SSLError, TimeoutError, asyncio.CancelledError):
            # a failed or abandoned connection; a transport, once made, closed the socket
            self.forget(conn)
            if conn.transport is None:
                sock.close()
        finally:
            conn.task = None

    def headers_complete(self, conn: _Conn) -> None:
        """The first request is in: the header deadline no longer applies."""
        conn.done = True
        conn.tail = b""
        if conn.timer is not None:
            conn.timer.cancel()
            conn.timer = None

    def _expire(self, conn: _Conn) -> None:
        conn.timer = None
        if not conn.done:
            self._close(conn)

    def _close(self, conn: _Conn) -> None:
        self.forget(conn)
        if conn.transport is not None:
            conn.transport.abort()  # type: ignore[attr-defined]
        elif conn.task is not None:
            conn.task.cancel()

    def forget(self, conn: _Conn) -> None:
        """Stop counting ``conn`` (idempotent)."""
        self._conns.pop(conn, None)
        if conn.timer is not None:
            conn.timer.cancel()
            conn.timer = None

    # asyncio.AbstractServer, as far as aiohttp's runner uses it

    def close(self) -> None:
        """Stop accepting; open connections are left to aiohttp's shutdown."""
        if self._accepting is not None:
            self._accepting.cancel()
            self._accepting = None
        for conn in list(self._conns):
            if not conn.done:
                self._close(conn)
        self._sock.close()

    async def wait_closed(self) -> None:
        """Nothing to wait for beyond `close`."""

    def get_loop(self) -> asyncio.AbstractEventLoop:
        """The loop this listener runs on."""
        return self._loop

    def is_serving(self) -> bool:
        """Whether the accept loop runs."""
        return self._accepting is not None

    async def start_serving(self) -> None:
        """Already serving once started."""

    async def serve_forever(self) -> None:
        """Not used: the runner owns the lifetime."""
        raise NotImplementedError


def bind(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: a free one)."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(511)
    except OSError:
        sock.close()
        raise
    return sock


class BoundedSite(web.BaseSite):
    """Serve ``runner`` on ``host:port`` (or on a pre-bound ``sock``) within ``limits``."""

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        limits: ListenerLimits,
        ssl_context: ssl.SSLContext | None = None,
        sock: socket.socket | None = None,
        reuse_port: bool = False,
    ) -> None:
        super().__init__(runner, ssl_context=ssl_context)
        self._host = host
        self._port = port
        self._given = sock
        self._reuse_port = reuse_port
        self._limits = limits
        self.listener: _Listener | None = None

    @property
    def name(self) -> str:
        """``scheme://host:port`` as bound."""
        scheme = "https" if self._ssl_context else "http"
        if self.listener is None:
            return f"{scheme}://{self._host}:{self._port}"
        host, port = self.listener.sockets[0].getsockname()[:2]
        host = f"[{host}]" if ":" in host else host
        return f"{scheme}://{host}:{port}"

    async def start(self) -> None:
        """Bind (unless given a socket) and start the accept loop."""
        await super().start()
        pin_mmap_threshold()
        server = self._runner.server
        assert server is not None
        sock = self._given or bind(self._host, self._port, reuse_port=self._reuse_port)
        self.listener = _Listener(sock, server, self._ssl_context, self._limits)
        self.listener.start()
        self._server = self.listener
