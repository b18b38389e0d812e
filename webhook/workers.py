"""``--workers N``: N processes serve the HTTPS port, one event loop each (SO_REUSEPORT).

The first process compiles the rules once and binds the port (which also resolves ``--port
0``), then forks N-1 workers that inherit the compiled rules and bind the same port with
SO_REUSEPORT, so the kernel spreads connections over them. It serves only once every worker has
reported serving over a pipe (so ``READY`` means N processes accept), and it alone serves
``/healthz``, ``/readyz`` and ``/metrics``; its admission metrics count its own requests.
Workers stop on SIGTERM (forwarded by the first process) and exit by themselves if the first
process dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import select
import signal
import socket
import time

from shared.errors import InputError
from shared.policy.engine import PolicyEngine
from webhook.config import WebhookConfig
from webhook.server import WebhookServer, build_engine, serve

log = logging.getLogger(__name__)
_PARENT_CHECK_SECONDS = 1.0
_WORKER_START_SECONDS = 30.0


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


async def _worker(config: WebhookConfig, parent: int, engine: PolicyEngine, ready: int) -> int:
    server = WebhookServer(config, engine=engine, serve_health=False)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await server.start()
        os.write(ready, b"1")  # serving: the first process may announce READY
        os.close(ready)
        while not stop.is_set() and os.getppid() == parent:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), _PARENT_CHECK_SECONDS)
    finally:
        await server.stop()
    return 0


def run_workers(config: WebhookConfig) -> int:
    """Serve with ``config.workers`` processes; return the first process's exit code."""
    engine = build_engine(config)  # before forking: workers share the compiled rules
    sock = listen_reuse_port(config.bind_address, config.port)
    shared = dataclasses.replace(config, port=int(sock.getsockname()[1]))
    parent = os.getpid()
    children: list[int] = []
    read_end, write_end = os.pipe()
    for _ in range(config.workers - 1):
        pid = os.fork()
        if pid == 0:  # a worker: its own socket on the same port, no health/metrics
            sock.close()
            os.close(read_end)
            code = 1
            try:
                code = asyncio.run(_worker(shared, parent, engine, write_end))
            except Exception as exc:
                log.error("webhook worker stopped: %s", type(exc).__name__)
            finally:
                os._exit(code)
        children.append(pid)
    os.close(write_end)
    try:
        _await_workers(read_end, len(children))
        return asyncio.run(serve(shared, sock=sock, engine=engine))
    finally:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for pid in children:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


def _await_workers(read_end: int, count: int) -> None:
    """Wait until ``count`` workers report serving; raise if one exits first or time runs out."""
    deadline = time.monotonic() + _WORKER_START_SECONDS
    started = 0
    try:
        while started < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([read_end], [], [], remaining)[0]:
                raise InputError(
                    f"{count - started} of {count} webhook workers did not start within "
                    f"{_WORKER_START_SECONDS:g}s; see their log lines above"
                )
            data = os.read(read_end, count)
            if not data:  # every worker's end is closed: one exited before serving
                raise InputError(
                    f"{count - started} of {count} webhook workers exited before serving; "
                    "see their log lines above"
                )
            started += len(data)
    finally:
        os.close(read_end)
