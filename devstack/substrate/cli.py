"""`kagent-substrate devstack substrate`: run the Agent Substrate simulator until SIGINT/SIGTERM.

When listening it prints ``READY grpc=<host:port> router=<url> debug=<url>`` on one line
(flushed), so fixtures and the demo can wait for it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from devstack.substrate.faults import Faults, parse_fault_flag
from devstack.substrate.machine import Timing
from devstack.substrate.server import Simulator, SimulatorConfig
from shared.errors import InputError


def _namespaced(flag: str, value: str) -> tuple[str, str]:
    ns, sep, name = value.partition("/")
    if not sep or not ns or not name:
        raise InputError(f"{flag} {value!r}: expected NAMESPACE/NAME")
    return ns, name


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used for --help)."""
    p = argparse.ArgumentParser(
        prog="kagent-substrate devstack substrate",
        description="Agent Substrate simulator: ate-api Control over TLS, template controller, "
        "atenet-router, /debug. Prints 'READY grpc=… router=… debug=…' when serving.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--grpc-port", type=int, default=0, help="ate-api gRPC port (0 = free port)")
    p.add_argument("--router-port", type=int, default=0, help="atenet-router HTTP port")
    p.add_argument("--debug-port", type=int, default=0, help="/debug HTTP port")
    p.add_argument("--ca-out", type=Path, help="write the CA certificate (PEM) that clients verify")
    p.add_argument(
        "--tls-host", action="append", default=[], help="extra certificate name (repeatable)"
    )
    p.add_argument(
        "--require-token-file",
        type=Path,
        help="enforce 'authorization: Bearer <file contents>' (re-read per call)",
    )
    p.add_argument(
        "--kubeconfig", type=Path, help="watch ActorTemplates/WorkerPools on this Kubernetes API"
    )
    p.add_argument("--workers", type=int, default=0, help="workers of --pool when no --kubeconfig")
    p.add_argument(
        "--pool",
        default="ate-system/default",
        help="NAMESPACE/NAME of the pool used without --kubeconfig",
    )
    p.add_argument(
        "--template",
        action="append",
        default=[],
        help="NAMESPACE/NAME of a template known without --kubeconfig (repeatable)",
    )
    p.add_argument(
        "--resume-delay", type=float, default=0.0, help="seconds an actor stays RESUMING"
    )
    p.add_argument(
        "--suspend-delay", type=float, default=0.0, help="seconds an actor stays SUSPENDING"
    )
    p.add_argument(
        "--golden-warmup",
        type=float,
        default=0.2,
        help="seconds before the golden snapshot (reference: 20)",
    )
    p.add_argument(
        "--template-workers",
        type=int,
        default=4,
        help="ActorTemplates reconciled at once (one key never twice at a time)",
    )
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        help="METHOD:knob=value[,…]; knobs latency (s), unavailable, drop, atelet_fail, stuck (counts); METHOD may be *",
    )
    return p


def config_from_args(args: argparse.Namespace) -> SimulatorConfig:
    """Flags → `SimulatorConfig`; bad values raise `InputError` naming the flag."""
    for flag in ("grpc_port", "router_port", "debug_port"):
        if not 0 <= getattr(args, flag) <= 65535:
            raise InputError(f"--{flag.replace('_', '-')} must be a port 0..65535")
    if args.workers < 0:
        raise InputError("--workers must not be negative")
    if args.template_workers < 1:
        raise InputError("--template-workers must be at least 1")
    for flag in ("resume_delay", "suspend_delay", "golden_warmup"):
        if getattr(args, flag) < 0:
            raise InputError(f"--{flag.replace('_', '-')} must not be negative")
    if args.kubeconfig is not None and not args.kubeconfig.is_file():
        raise InputError(f"--kubeconfig {args.kubeconfig}: file not found")
    faults = Faults()
    for text in args.fault:
        method, knobs = parse_fault_flag(text)
        faults.set(method, **knobs)
    hosts = ("127.0.0.1", "localhost", "api.ate-system.svc", *args.tls_host)
    if args.host not in hosts:
        hosts = (*hosts, args.host)
    return SimulatorConfig(
        host=args.host,
        grpc_port=args.grpc_port,
        router_port=args.router_port,
        debug_port=args.debug_port,
        tls_hosts=hosts,
        ca_out=args.ca_out,
        token_file=args.require_token_file,
        pool=_namespaced("--pool", args.pool),
        workers=args.workers,
        templates=tuple(_namespaced("--template", t) for t in args.template),
        timing=Timing(args.resume_delay, args.suspend_delay),
        faults=faults,
        kubeconfig=args.kubeconfig,
        golden_warmup=args.golden_warmup,
        template_workers=args.template_workers,
    )


async def serve(config: SimulatorConfig) -> None:
    """Start, print READY, wait for a signal, stop."""
    sim = Simulator(config)
    ends = await sim.start()
    print(f"READY grpc={ends.grpc} router={ends.router} debug={ends.debug}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await sim.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; exit 0 on a clean stop, 2 on bad flags."""
    args = build_parser().parse_args(list(argv) if argv is not None else None)
    try:
        config = config_from_args(args)
    except InputError as err:
        print(f"kagent-substrate devstack substrate: {err}", file=sys.stderr)
        return 2
    try:
        asyncio.run(serve(config))
    except OSError as err:
        print(f"kagent-substrate devstack substrate: cannot listen: {err}", file=sys.stderr)
        return 2
    return 0
