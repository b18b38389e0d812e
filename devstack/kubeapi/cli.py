"""``kagent-substrate devstack kube``: run the Kubernetes API stand-in until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from devstack.kubeapi.auth import AuthTable, load_auth_file
from devstack.kubeapi.config import KubeApiConfig
from devstack.kubeapi.server import KubeApiServer
from shared.errors import InputError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kagent-substrate devstack kube",
        description="Serve a Kubernetes API stand-in over HTTPS and write a kubeconfig for it. "
        "Prints 'READY https://HOST:PORT kubeconfig=PATH' once serving.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port (default 0: a free one)")
    p.add_argument("--kubeconfig", type=Path, required=True, help="where to write the kubeconfig")
    p.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="folder for the CA, serving cert and snapshot; reuse it to restart without losing objects",
    )
    p.add_argument(
        "--auth-file", type=Path, default=None, help="YAML with extra users (tokens) and RBAC rules"
    )
    p.add_argument(
        "--webhook-service",
        action="append",
        default=[],
        metavar="NS/NAME=HOST:PORT",
        help="address to call for a webhook clientConfig.service (repeatable)",
    )
    p.add_argument(
        "--bookmark-interval", type=float, default=30.0, help="seconds between watch bookmarks"
    )
    p.add_argument(
        "--history-size",
        type=int,
        default=20_000,
        help="changes kept per resource for watch resume",
    )
    p.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    return p


def _services(values: list[str]) -> dict[str, str]:
    out = {}
    for value in values:
        key, sep, address = value.partition("=")
        if not sep or "/" not in key or not address:
            raise InputError(f"--webhook-service {value!r}: expected NS/NAME=HOST:PORT")
        out[key] = address
    return out


async def _serve(config: KubeApiConfig) -> int:
    server = KubeApiServer(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    print(f"READY {server.url} kubeconfig={server.kubeconfig_path}", flush=True)
    try:
        await stop.wait()
    finally:
        await server.stop()
        server.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse flags, serve until a signal; exit 2 on bad input."""
    try:
        args = _parser().parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:
        return int(exc.code or 0)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    try:
        auth = load_auth_file(args.auth_file) if args.auth_file else AuthTable()
        config = KubeApiConfig(
            host=args.host,
            port=args.port,
            kubeconfig=args.kubeconfig.resolve(),
            state_dir=args.state_dir.resolve() if args.state_dir else None,
            admin_token=os.environ.get("KUBEAPI_ADMIN_TOKEN", ""),
            auth=auth,
            webhook_services=_services(args.webhook_service),
            bookmark_interval=args.bookmark_interval,
            history_size=args.history_size,
        )
    except InputError as exc:
        print(f"kagent-substrate devstack kube: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(_serve(config))
