"""``--workers N``: N processes serve the HTTPS port, one event loop each (SO_REUSEPORT).

The first process binds the port (which also resolves ``--port 0``), then forks N-1 workers
that bind the same port with SO_REUSEPORT so the kernel spreads connections over them. Only
the first process serves ``/healthz``, ``/readyz`` and ``/metrics`` and prints ``READY``; its
admission metrics count its own requests. Workers stop on SIGTERM (forwarded by the first
process) and exit by themselves if the first process dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import socket

from webhook.config import WebhookConfig
from webhook.server import WebhookServer, serve

log = logging.getLogger(__name__)
_PARENT_CHECK_SECONDS = 1.0


def listen_reuse_port(host: str, port: int) -> socket.socket:
    """A listening TCP socket with SO_REUSEADDR and SO_REUSEPORT."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    sock.listen(1024)
    sock.setblocking(False)
    return sock


async def _worker(config: WebhookConfig, parent: int) -> int:
    server = WebhookServer(config, serve_health=False)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await server.start()
        while not stop.is_set() and os.getppid() == parent:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), _PARENT_CHECK_SECONDS)
    finally:
        await server.stop()
    return 0


def run_workers(config: WebhookConfig) -> int:
    """Serve with ``config.workers`` processes; return the first process's exit code."""
    sock = listen_reuse_port(config.bind_address, config.port)
    shared = dataclasses.replace(config, port=int(sock.getsockname()[1]))
    parent = os.getpid()
    children: list[int] = []
    for _ in range(config.workers - 1):
        pid = os.fork()
        if pid == 0:  # a worker: its own socket on the same port, no health/metrics
            sock.close()
            code = 1
            try:
                code = asyncio.run(_worker(shared, parent))
            except Exception as exc:
                log.error("webhook worker stopped: %s", type(exc).__name__)
            finally:
                os._exit(code)
        children.append(pid)
    try:
        return asyncio.run(serve(shared, sock=sock))
    finally:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for pid in children:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
