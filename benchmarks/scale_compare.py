"""Controller architecture at scale, before and after, in one run (issue 18 item 2).

Runs the local stack twice: once with the controller process from another revision's source
(``--baseline REV``, extracted with ``git archive``; the stand-in, simulator and webhook are this
tree's) and once with this tree's. Each run creates N AgentHarnesses (each with its own gateway
token Secret) and M SandboxAgents (one ModelConfig and its Secret), waits until every object is
Ready, then reads the stand-in's request counters for the controller's own user and the
controller's peak RSS (``VmHWM``). Prints one table, the two runs side by side: watch and list
requests per resource (a list + watch is one informer), API requests to Ready by verb, peak RSS,
time to all Ready.

    .venv/bin/python benchmarks/bench_scale.py --compare --baseline 0f9765f \\
        [--harnesses 1000] [--sandboxagents 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_controller import (  # noqa: E402
    Api,
    create_pool,
    flatten,
    is_ready,
    log,
    peak_rss_mb,
)
from devstack.stack import DEFAULT_POOL, LocalStack  # noqa: E402

MODEL = "bench-model"


@dataclass
class Figures:
    """What one run measured."""

    label: str
    ready_s: float = 0.0
    requests: dict[tuple[str, str], int] = field(default_factory=dict)
    rss_mb: float = 0.0


@dataclass
class Variant(LocalStack):
    """The local stack whose controller process runs ``source`` (None: this tree)."""

    source: Path | None = None

    def controller_command(self) -> list[str]:
        """This tree's command; with ``source``, the same flags to that tree's controller."""
        command = super().controller_command()
        if self.source is None:
            return command
        flags = command[command.index("controller") + 1 :]
        boot = (
            f"import sys; sys.path.insert(0, {str(self.source)!r}); "
            "from controller.cli import main; sys.exit(main(sys.argv[1:]))"
        )
        return [sys.executable, "-c", boot, *flags]


def harness(i: int, ns: str) -> dict[str, Any]:
    """A substrate harness with its own gateway token Secret."""
    return {
        "apiVersion": "kagent.dev/v1alpha2",
        "kind": "AgentHarness",
        "metadata": {"name": f"h-{i:05d}", "namespace": ns},
        "spec": {
            "backend": "openclaw",
            "runtime": "substrate",
            "substrate": {"gatewayTokenSecretRef": {"name": f"gw-{i:05d}"}},
        },
    }


def secret(name: str, ns: str, **data: str) -> dict[str, Any]:
    """An Opaque Secret."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": ns},
        "stringData": data,
    }


def sandbox_agent(i: int, ns: str) -> dict[str, Any]:
    """A substrate SandboxAgent on the bench ModelConfig."""
    return {
        "apiVersion": "kagent.dev/v1alpha2",
        "kind": "SandboxAgent",
        "metadata": {"name": f"sa-{i:05d}", "namespace": ns},
        "spec": {
            "platform": "substrate",
            "declarative": {"modelConfig": MODEL, "systemMessage": "Be brief."},
            "substrate": {"workerPoolRef": {"name": DEFAULT_POOL}},
        },
    }


def agent_ready(obj: dict[str, Any]) -> bool:
    """Ready=True (SandboxAgent)."""
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (obj.get("status") or {}).get("conditions") or []
    )


async def drive(stack: Variant, args: argparse.Namespace, label: str) -> Figures:
    """Create everything, wait for Ready, read the counters and the RSS."""
    ns, n, m = stack.namespace, args.harnesses, args.sandboxagents
    fig = Figures(label)
    core, kagent = f"/api/v1/namespaces/{ns}", f"/apis/kagent.dev/v1alpha2/namespaces/{ns}"
    async with Api(stack.kubeconfig, args.concurrency) as api:
        await create_pool(api, ns, n + m + args.pool_margin)
        await api.call("POST", f"{core}/secrets", secret("bench-llm", ns, key="sk-bench"))
        await api.call(
            "POST",
            f"{kagent}/modelconfigs",
            {
                "apiVersion": "kagent.dev/v1alpha2",
                "kind": "ModelConfig",
                "metadata": {"name": MODEL, "namespace": ns},
                "spec": {
                    "provider": "Anthropic",
                    "model": "claude-sonnet-4-5",
                    "apiKeySecret": "bench-llm",
                    "apiKeySecretKey": "key",
                },
            },
        )
        log(f"  [{label}] {n} Secrets, {n} harnesses, {m} SandboxAgents ...")
        await asyncio.gather(
            *(
                api.call("POST", f"{core}/secrets", secret(f"gw-{i:05d}", ns, token="t" * 40))
                for i in range(n)
            )
        )
        t0 = time.monotonic()
        await asyncio.gather(
            *(api.call("POST", f"{kagent}/agentharnesses", harness(i, ns)) for i in range(n)),
            *(api.call("POST", f"{kagent}/sandboxagents", sandbox_agent(i, ns)) for i in range(m)),
        )
        deadline = t0 + args.timeout
        while True:
            harnesses = (await api.call("GET", f"{kagent}/agentharnesses"))["items"]
            agents = (await api.call("GET", f"{kagent}/sandboxagents"))["items"]
            done = sum(map(is_ready, harnesses)) + sum(map(agent_ready, agents))
            if done == n + m:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"[{label}] {done}/{n + m} Ready after {args.timeout:.0f}s")
            await asyncio.sleep(1.0)
        fig.ready_s = time.monotonic() - t0
        fig.requests = flatten(await api.counters())
    fig.rss_mb = peak_rss_mb(stack.procs["controller"].popen.pid)
    log(f"  [{label}] all Ready after {fig.ready_s:.1f}s")
    return fig


def run(label: str, source: Path | None, args: argparse.Namespace) -> Figures:
    """One whole run on a fresh stack."""
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-scale-{label}-"))
    stack = Variant(workdir, namespace="bench", source=source)
    log(f"[{label}] starting the local stack (logs in {workdir}) ...")
    stack.up()
    try:
        return asyncio.run(drive(stack, args, label))
    finally:
        stack.down()


def extract(rev: str) -> Path:
    """``rev``'s source tree in a temp folder (git archive: no checkout, no worktree)."""
    out = Path(tempfile.mkdtemp(prefix="bench-scale-src-"))
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev], capture_output=True, check=True, timeout=60
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True, timeout=60)
    return out


def table(before: Figures, after: Figures, n: int, m: int) -> str:
    """Figure | before | after."""
    rows: list[tuple[str, str, str]] = []
    keys = sorted({r for (v, r) in before.requests | after.requests if v in ("watch", "list")})

    def count(fig: Figures, verb: str, res: str = "") -> int:
        return sum(c for (v, r), c in fig.requests.items() if v == verb and (not res or r == res))

    rows.append(("objects", f"{n} harnesses + {m} SandboxAgents + {n + 1} Secrets", ""))
    rows.append(
        ("watch requests (all kinds)", str(count(before, "watch")), str(count(after, "watch")))
    )
    for res in keys:
        rows.append(
            (f"  watch {res}", str(count(before, "watch", res)), str(count(after, "watch", res)))
        )
    rows.append(
        ("list requests (all kinds)", str(count(before, "list")), str(count(after, "list")))
    )
    total = (sum(before.requests.values()), sum(after.requests.values()))
    rows.append(("controller API requests to all Ready", str(total[0]), str(total[1])))
    for verb in sorted({v for v, _ in before.requests | after.requests}):
        rows.append((f"  {verb}", str(count(before, verb)), str(count(after, verb))))
    rows.append(("controller peak RSS (MiB)", f"{before.rss_mb:.1f}", f"{after.rss_mb:.1f}"))
    rows.append(("apply -> all Ready (s)", f"{before.ready_s:.1f}", f"{after.ready_s:.1f}"))
    head = ("figure", f"before ({before.label})", f"after ({after.label})")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(3)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(head, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Parse flags, run before and after, print the table."""
    p = argparse.ArgumentParser(
        prog="bench_scale.py --compare", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--baseline", required=True, help="git revision whose controller is 'before'")
    p.add_argument("--harnesses", type=int, default=1000)
    p.add_argument("--sandboxagents", type=int, default=200)
    p.add_argument("--concurrency", type=int, default=16, help="concurrent create requests")
    p.add_argument("--pool-margin", type=int, default=20, help="workers beyond the objects")
    p.add_argument("--timeout", type=float, default=900, help="seconds allowed to reach Ready")
    p.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = p.parse_args(argv)
    rev = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", args.baseline],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.strip()
    before = run(rev, extract(args.baseline), args)
    after = run("this tree", None, args)
    print(table(before, after, args.harnesses, args.sandboxagents))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    f.label: {
                        "ready_s": round(f.ready_s, 2),
                        "peak_rss_mb": round(f.rss_mb, 1),
                        "requests": {f"{v} {r}": c for (v, r), c in sorted(f.requests.items())},
                    }
                    for f in (before, after)
                },
                indent=2,
            )
        )
    return 0
