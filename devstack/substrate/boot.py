"""What an actor's container does when it boots, as far as a caller can tell.

ate-api resolves an ActorTemplate's env (literals and ``secretKeyRef``s) when an actor boots, and
a snapshot keeps the booted process: an actor restored from the golden snapshot (or from its own)
keeps the env resolved when that snapshot's process booted. A Secret edited later reaches only
actors booted later, which on Substrate means after the template changed and the golden actor was
booted again. The simulator keeps one `Process` per actor and per snapshot to the same rules.

A ``/bin/sh -c <script>`` command (the OpenClaw startup script) is really run: in a temporary
HOME, with the resolved env, ``node`` from PATH and a stub ``openclaw``. The ``openclaw.json`` it
leaves decides the gateway token the fake workload then demands (``Authorization: Bearer``),
so a script and a proxy that disagree about the token fail as they would on a real actor.
Values are never kept: only their SHA-256 and the gateway token the script produced.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SCRIPT_TIMEOUT = 30.0
OPENCLAW_STUB = "#!/bin/sh\nexit 0\n"

SecretReader = Callable[[str, str], Awaitable[dict[str, str] | None]]
"""(namespace, name) -> the Secret's base64 ``data``, or None when it does not exist."""


@dataclass(frozen=True, slots=True)
class Process:
    """A booted container: digests of its env and what its startup script configured."""

    env_sha256: dict[str, str] = field(default_factory=dict)
    gateway_token: str | None = None
    """``gateway.auth.token`` of the openclaw.json the script wrote; None: no token auth."""
    error: str = ""
    """Why the container failed to start ("" when it started)."""


class BootError(Exception):
    """The startup script failed (the message says how)."""


async def resolve_env(
    entries: list[dict[str, Any]], namespace: str, read_secret: SecretReader | None
) -> dict[str, str]:
    """Literal and ``secretKeyRef`` env as ate-api resolves it; unresolvable entries unset."""
    env: dict[str, str] = {}
    for entry in entries:
        name = str(entry.get("name") or "")
        if not name or name in env:
            continue
        ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
        if isinstance(ref, dict):
            data = None if read_secret is None else await read_secret(namespace, str(ref["name"]))
            raw = (data or {}).get(str(ref.get("key")))
            if raw is not None:
                env[name] = base64.b64decode(raw).decode("utf-8", "replace")
        elif "value" in entry:
            env[name] = str(entry.get("value") or "")
    return env


async def run_startup_script(script: str, env: dict[str, str]) -> dict[str, Any]:
    """Run ``/bin/sh -c script`` like the container would; the openclaw.json it leaves."""
    node = shutil.which("node")
    if node is None:
        raise BootError("node is not on PATH: the devstack runs OpenClaw startup scripts with it")
    with tempfile.TemporaryDirectory(prefix="ks-actor-") as tmp:
        home, bin_dir = Path(tmp) / "home", Path(tmp) / "bin"
        home.mkdir()
        bin_dir.mkdir()
        stub = bin_dir / "openclaw"
        stub.write_text(OPENCLAW_STUB)
        stub.chmod(0o755)
        path = os.pathsep.join([str(bin_dir), str(Path(node).parent), "/usr/bin", "/bin"])
        proc = await asyncio.create_subprocess_exec(
            "/bin/sh",
            "-c",
            script,
            env={**env, "HOME": str(home), "PATH": path},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            async with asyncio.timeout(SCRIPT_TIMEOUT):
                _, err = await proc.communicate()
        except TimeoutError:
            raise BootError(f"startup script did not finish within {SCRIPT_TIMEOUT:.0f}s") from None
        finally:
            # Timed out or cancelled (a stack shutting down): never leave the child running,
            # nor its transport to be collected later on another (closed) event loop.
            if proc.returncode is None:
                proc.kill()
                await asyncio.shield(proc.wait())
        if proc.returncode != 0:
            tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            raise BootError(f"startup script exited with {proc.returncode}: {tail[0][:200]}")
        config = home / ".openclaw" / "openclaw.json"
        if not config.exists():
            return {}
        loaded = json.loads(config.read_text())
        return loaded if isinstance(loaded, dict) else {}


def _gateway_token(openclaw: dict[str, Any]) -> str | None:
    auth = (openclaw.get("gateway") or {}).get("auth") or {}
    token = auth.get("token")
    return token if auth.get("mode") == "token" and isinstance(token, str) and token else None


async def boot(
    container: dict[str, Any], namespace: str, read_secret: SecretReader | None
) -> Process:
    """Boot ``container`` of a template in ``namespace``."""
    env = await resolve_env(list(container.get("env") or []), namespace, read_secret)
    digests = {k: hashlib.sha256(v.encode()).hexdigest() for k, v in sorted(env.items())}
    command = [str(c) for c in container.get("command") or []]
    if len(command) != 3 or command[:2] != ["/bin/sh", "-c"]:
        return Process(digests)
    try:
        openclaw = await run_startup_script(command[2], env)
    except BootError as exc:
        return Process(digests, error=str(exc))
    return Process(digests, gateway_token=_gateway_token(openclaw))


class Boots:
    """Processes of actors and snapshots; templates' containers as the informer saw them."""

    def __init__(self) -> None:
        self.read_secret: SecretReader | None = None
        self.containers: dict[tuple[str, str], dict[str, Any]] = {}
        self.by_actor: dict[str, Process] = {}
        self.by_snapshot: dict[str, Process] = {}

    def put_template(self, namespace: str, name: str, spec: dict[str, Any]) -> None:
        """Remember the first container of a template (the one an actor runs)."""
        containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
        if containers:
            self.containers[(namespace, name)] = containers[0]
        else:
            self.containers.pop((namespace, name), None)

    async def boot(self, actor_id: str, namespace: str, name: str) -> None:
        """The actor booted from its template (no snapshot to restore)."""
        container = self.containers.get((namespace, name))
        if container is None:
            self.by_actor.pop(actor_id, None)
            return
        try:
            process = await boot(container, namespace, self.read_secret)
        except Exception as exc:  # the API stand-in unreachable: the container never started
            process = Process(error=f"env could not be resolved ({type(exc).__name__})")
        if process.error:
            log.warning("actor %s failed to boot: %s", actor_id, process.error)
        self.by_actor[actor_id] = process

    def restore(self, actor_id: str, snapshot: str) -> None:
        """The actor was restored from ``snapshot``: it runs the process the snapshot holds."""
        process = self.by_snapshot.get(snapshot)
        if process is None:
            self.by_actor.pop(actor_id, None)
        else:
            self.by_actor[actor_id] = process

    def snapshot(self, actor_id: str, snapshot: str) -> None:
        """``snapshot`` of the actor was taken: it holds the actor's current process."""
        process = self.by_actor.get(actor_id)
        if process is not None:
            self.by_snapshot[snapshot] = process

    def process(self, actor_id: str) -> Process | None:
        """The running process of the actor; None when the simulator cannot tell."""
        return self.by_actor.get(actor_id)
