"""Run the stand-in: TLS material, the aiohttp runner, background tasks, kubeconfig, restart.

``async with KubeApiServer(config) as server`` serves on ``server.url`` and writes
``server.kubeconfig_path``; ``await server.restart()`` stops and starts it again on the same
port from its snapshot (fault injection: an apiserver restart that loses no objects).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import ssl
import tempfile
from pathlib import Path
from types import TracebackType

from aiohttp import web

from devstack.kubeapi import kubeconfig, snapshot
from devstack.kubeapi.app import make_app
from devstack.kubeapi.auth import MASTERS, User
from devstack.kubeapi.config import KubeApiConfig
from devstack.kubeapi.deletion import NAMESPACE_FINALIZER, now_rfc3339
from devstack.kubeapi.resources import NAMESPACE_KEY
from devstack.kubeapi.state import ApiState, build_state
from shared.certs import KeyPair, make_ca, make_serving_cert
from shared.secrets import Secret

log = logging.getLogger(__name__)

DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def _load_or_make_tls(folder: Path) -> tuple[KeyPair, KeyPair]:
    ca_cert, ca_key = folder / "ca.crt", folder / "ca.key"
    srv_cert, srv_key = folder / "apiserver.crt", folder / "apiserver.key"
    if ca_cert.exists() and ca_key.exists() and srv_cert.exists() and srv_key.exists():
        return (
            KeyPair(ca_cert.read_bytes(), ca_key.read_bytes()),
            KeyPair(srv_cert.read_bytes(), srv_key.read_bytes()),
        )
    ca = make_ca("kagent-devstack-kubeapi-ca")
    serving = make_serving_cert(ca, ["127.0.0.1", "localhost", "::1"])
    ca.write(ca_cert, ca_key)
    serving.write(srv_cert, srv_key)
    return ca, serving


class KubeApiServer:
    """One stand-in API server with its own state, TLS material and kubeconfig."""

    def __init__(self, config: KubeApiConfig) -> None:
        self.config = config
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if config.state_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="kubeapi-")
            self.state_dir = Path(self._tmp.name)
        else:
            self.state_dir = config.state_dir
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.token = Secret(config.admin_token or secrets.token_urlsafe(32))
        self.ca, self._serving = _load_or_make_tls(self.state_dir)
        self.kubeconfig_path = config.kubeconfig or self.state_dir / "kubeconfig"
        self.port = config.port
        self.state: ApiState | None = None
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def url(self) -> str:
        """``https://host:port``."""
        return f"https://{self.config.host}:{self.port}"

    @property
    def snapshot_path(self) -> Path:
        """Where the store is saved."""
        return self.state_dir / "snapshot.json"

    def _ssl(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        cert, key = self.state_dir / "apiserver.crt", self.state_dir / "apiserver.key"
        ctx.load_cert_chain(cert, key)
        return ctx

    def _seed(self, state: ApiState) -> None:
        data = snapshot.load(self.snapshot_path)
        if data is not None:
            state.store.restore(data)
            state.crds.load_all()
            return
        for name in DEFAULT_NAMESPACES:
            state.store.put(
                NAMESPACE_KEY,
                {
                    "kind": "Namespace",
                    "apiVersion": "v1",
                    "metadata": {
                        "name": name,
                        "uid": f"00000000-0000-4000-8000-{abs(hash(name)) % 10**12:012d}",
                        "creationTimestamp": now_rfc3339(),
                        "generation": 1,
                        "labels": {"kubernetes.io/metadata.name": name},
                    },
                    "spec": {"finalizers": [NAMESPACE_FINALIZER]},
                    "status": {"phase": "Active"},
                },
            )

    async def start(self) -> None:
        """Build the state, bind, start background tasks, write the kubeconfig."""
        auth = self.config.auth.with_token(self.token, User("admin", (MASTERS,)))
        state = build_state(self.config, auth)
        self._seed(state)
        app = make_app(state)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(
            self._runner, self.config.host, self.port, ssl_context=self._ssl(), reuse_address=True
        )
        await site.start()
        server = site._server
        if self.port == 0 and server is not None and server.sockets:  # type: ignore[union-attr]
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        state.address = f"{self.config.host}:{self.port}"
        self.state = state
        self._tasks = [asyncio.create_task(state.gc.run(), name="kubeapi-gc")]
        self._tasks.append(
            asyncio.create_task(
                snapshot.keep_saved(state.store, self.snapshot_path, self.config.snapshot_interval),
                name="kubeapi-snapshot",
            )
        )
        kubeconfig.write(
            self.kubeconfig_path, kubeconfig.render(self.url, self.ca.cert_pem, self.token.reveal())
        )

    async def stop(self) -> None:
        """Drop watches, stop serving, save the snapshot."""
        state = self.state
        if state is not None:
            state.hub.drop_all()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if state is not None:
            await state.caller.close()
            state.store.dirty = True
            await snapshot.flush(state.store, self.snapshot_path)
        self.state = None

    async def restart(self) -> None:
        """Stop and start again on the same port, keeping every object (via the snapshot)."""
        await self.stop()
        await self.start()

    def close(self) -> None:
        """Remove the temporary state folder, if one was made."""
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    async def __aenter__(self) -> KubeApiServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
        self.close()
