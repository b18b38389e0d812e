"""etcd, kube-apiserver and kube-controller-manager on 127.0.0.1 free ports, envtest-style.

`ControlPlane.up()` writes a CA, the apiserver's serving certificate, a service-account key pair
and a static token file (an admin in ``system:masters`` plus the given users) into its work
folder, starts the three processes (logs in ``<workdir>/logs``), waits for ``/readyz`` as admin,
for the ``default`` namespace and for the ``default`` ServiceAccount (KCM is working), and
writes a kubeconfig per user. `down()` stops them in reverse order (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import json
import secrets
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from shared.certs import KeyPair, make_ca, make_serving_cert

ADMIN = "realkube-admin"
MASTERS = "system:masters"
START_TIMEOUT = 90.0
KCM_CONTROLLERS = ",".join(
    (
        "garbage-collector-controller",
        "namespace-controller",
        "serviceaccount-controller",
        "serviceaccount-token-controller",
        "root-ca-certificate-publisher-controller",
        "clusterrole-aggregation-controller",
    )
)
SA_ISSUER = "https://kubernetes.default.svc.cluster.local"


class PlaneError(RuntimeError):
    """A control-plane process failed to start or a step timed out; names the log file."""


@dataclass(frozen=True)
class TokenUser:
    """A static-token user of the apiserver (``--token-auth-file``)."""

    name: str
    token: str = field(repr=False)
    groups: tuple[str, ...] = ()


def free_port() -> int:
    """A port free on 127.0.0.1 right now (the caller retries if it is taken before use)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """The child gets SIGKILL when this process dies (no orphaned apiserver after a crash)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@dataclass
class _Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def failure(self) -> PlaneError:
        tail = self.log.read_text(errors="replace").strip().splitlines()[-5:]
        return PlaneError(
            f"{self.name} exited with code {self.popen.returncode}; see {self.log}:\n  "
            + "\n  ".join(tail)
        )

    def stop(self, timeout: float = 15.0) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)


def _write_key(key: ec.EllipticCurvePrivateKey, private: Path, public: Path) -> None:
    private.touch(mode=0o600, exist_ok=True)
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def kubeconfig(server: str, ca_pem: bytes, user: str, token: str) -> dict[str, Any]:
    """A kubeconfig for ``user`` authenticating with a bearer token."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "realkube",
                "cluster": {
                    "server": server,
                    "certificate-authority-data": base64.b64encode(ca_pem).decode(),
                },
            }
        ],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": user, "context": {"cluster": "realkube", "user": user}}],
        "current-context": user,
    }


@dataclass
class ControlPlane:
    """One real control plane in ``workdir``; see the module docstring."""

    workdir: Path
    bin_dir: Path
    users: Sequence[TokenUser] = ()
    admin_token: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    with_kcm: bool = True
    apiserver_args: Sequence[str] = ()
    audit_users: Sequence[str] = ()
    """Users whose requests are written to ``logs/audit.log`` (JSON lines, level Metadata): how
    tests and benchmarks count a process's API calls by verb and resource."""
    port: int = 0
    _procs: list[_Process] = field(default_factory=list)
    ca: KeyPair | None = None

    # -- paths -------------------------------------------------------------------------------
    @property
    def logs(self) -> Path:
        return self.workdir / "logs"

    @property
    def pki(self) -> Path:
        return self.workdir / "pki"

    @property
    def ca_file(self) -> Path:
        return self.pki / "ca.crt"

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def kubeconfig_path(self, user: str = ADMIN) -> Path:
        """Where ``user``'s kubeconfig is written (``kubeconfig`` for the admin)."""
        return self.workdir / ("kubeconfig" if user == ADMIN else f"{user}.kubeconfig")

    # -- lifecycle ---------------------------------------------------------------------------
    def up(self, timeout: float = START_TIMEOUT) -> None:
        """Start etcd, kube-apiserver and (unless ``with_kcm`` is off) KCM; wait until usable."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(exist_ok=True)
        self._write_credentials()
        try:
            etcd_url = self._start_etcd(timeout)
            self._start_apiserver(etcd_url, timeout)
            self._write_kubeconfigs()
            if self.with_kcm:
                self._start_kcm(timeout)
        except BaseException:
            self.down()
            raise

    def down(self) -> None:
        """Stop every process, newest first."""
        while self._procs:
            self._procs.pop().stop()

    def check_alive(self) -> None:
        """Raise `PlaneError` (with the log tail) if a process has exited."""
        for proc in self._procs:
            if not proc.alive():
                raise proc.failure()

    def pids(self) -> dict[str, int]:
        return {p.name: p.popen.pid for p in self._procs}

    # -- steps -------------------------------------------------------------------------------
    def _write_credentials(self) -> None:
        self.pki.mkdir(exist_ok=True)
        self.ca = make_ca("realkube-ca", days=30)
        self.ca.write(self.ca_file, self.pki / "ca.key")
        serving = make_serving_cert(
            self.ca,
            [
                "127.0.0.1",
                "localhost",
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local",
                "10.0.0.1",
            ],
            days=30,
        )
        serving.write(self.pki / "apiserver.crt", self.pki / "apiserver.key")
        _write_key(
            ec.generate_private_key(ec.SECP256R1()), self.pki / "sa.key", self.pki / "sa.pub"
        )
        lines = [f"{self.admin_token},{ADMIN},uid-{ADMIN},{MASTERS}"]
        for user in self.users:
            groups = ",".join(user.groups)
            lines.append(
                f"{user.token},{user.name},uid-{user.name}" + (f',"{groups}"' if groups else "")
            )
        tokens = self.pki / "tokens.csv"
        tokens.touch(mode=0o600, exist_ok=True)
        tokens.write_text("\n".join(lines) + "\n")

    def _spawn(self, name: str, args: list[str]) -> _Process:
        log = self.logs / f"{name}.log"
        with log.open("ab") as handle:
            popen = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        proc = _Process(name, popen, log)
        self._procs.append(proc)
        return proc

    def _wait(self, proc: _Process, what: str, ready: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        delay = 0.05
        while not ready():
            if not proc.alive():
                raise proc.failure()
            if time.monotonic() > deadline:
                raise PlaneError(
                    f"{proc.name}: {what} not reached within {timeout:.0f}s; see {proc.log}"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)

    def _start_etcd(self, timeout: float) -> str:
        client, peer = free_port(), free_port()
        url = f"http://127.0.0.1:{client}"
        proc = self._spawn(
            "etcd",
            [
                str(self.bin_dir / "etcd"),
                "--data-dir",
                str(self.workdir / "etcd"),
                "--listen-client-urls",
                url,
                "--advertise-client-urls",
                url,
                "--listen-peer-urls",
                f"http://127.0.0.1:{peer}",
                "--initial-advertise-peer-urls",
                f"http://127.0.0.1:{peer}",
                "--initial-cluster",
                f"default=http://127.0.0.1:{peer}",
                "--unsafe-no-fsync",
                "--quota-backend-bytes",
                str(4 * 1024**3),
                "--log-level",
                "warn",
            ],
        )

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(url + "/health", timeout=2) as resp:
                    return bool(json.loads(resp.read()).get("health") == "true")
            except (OSError, ValueError):
                return False

        self._wait(proc, "/health", healthy, timeout)
        return url

    @property
    def audit_log(self) -> Path:
        return self.logs / "audit.log"

    def _audit_args(self) -> list[str]:
        if not self.audit_users:
            return []
        policy = self.pki / "audit-policy.yaml"
        policy.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "audit.k8s.io/v1",
                    "kind": "Policy",
                    "omitStages": ["RequestReceived"],
                    "rules": [
                        {"level": "Metadata", "users": list(self.audit_users)},
                        {"level": "None"},
                    ],
                }
            )
        )
        return [
            f"--audit-policy-file={policy}",
            f"--audit-log-path={self.audit_log}",
            "--audit-log-format=json",
            "--audit-log-mode=blocking",
        ]

    def _start_apiserver(self, etcd_url: str, timeout: float) -> None:
        self.port = self.port or free_port()
        pki = self.pki
        proc = self._spawn(
            "kube-apiserver",
            [
                str(self.bin_dir / "kube-apiserver"),
                f"--etcd-servers={etcd_url}",
                "--bind-address=127.0.0.1",
                f"--secure-port={self.port}",
                "--advertise-address=127.0.0.1",
                "--endpoint-reconciler-type=none",
                f"--cert-dir={pki}",
                f"--tls-cert-file={pki / 'apiserver.crt'}",
                f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--client-ca-file={self.ca_file}",
                f"--token-auth-file={pki / 'tokens.csv'}",
                f"--service-account-issuer={SA_ISSUER}",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                "--authorization-mode=RBAC",
                "--service-cluster-ip-range=10.0.0.0/24",
                "--allow-privileged=true",
                "--v=1",
                *self._audit_args(),
                *self.apiserver_args,
            ],
        )
        self._wait(proc, "/readyz", lambda: self._get("/readyz") == 200, timeout)
        self._wait(
            proc,
            "namespace default",
            lambda: self._get("/api/v1/namespaces/default") == 200,
            timeout,
        )

    def _start_kcm(self, timeout: float) -> None:
        config = self.kubeconfig_path()
        proc = self._spawn(
            "kube-controller-manager",
            [
                str(self.bin_dir / "kube-controller-manager"),
                f"--kubeconfig={config}",
                f"--authentication-kubeconfig={config}",
                f"--authorization-kubeconfig={config}",
                f"--controllers={KCM_CONTROLLERS}",
                f"--service-account-private-key-file={self.pki / 'sa.key'}",
                f"--root-ca-file={self.ca_file}",
                "--use-service-account-credentials=false",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                f"--secure-port={free_port()}",
                "--kube-api-qps=200",
                "--kube-api-burst=400",
                "--v=1",
            ],
        )
        self._wait(
            proc,
            "ServiceAccount default/default",
            lambda: self._get("/api/v1/namespaces/default/serviceaccounts/default") == 200,
            timeout,
        )

    def _write_kubeconfigs(self) -> None:
        assert self.ca is not None
        for name, token in [(ADMIN, self.admin_token), *((u.name, u.token) for u in self.users)]:
            path = self.kubeconfig_path(name)
            path.touch(mode=0o600, exist_ok=True)
            path.write_text(yaml.safe_dump(kubeconfig(self.url, self.ca.cert_pem, name, token)))

    # -- admin REST --------------------------------------------------------------------------
    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def request(
        self, method: str, path: str, body: Any = None, timeout: float = 10
    ) -> tuple[int, Any]:
        """One admin request; returns (status, decoded JSON body or text)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.admin_token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=self.ssl_context()) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode(errors="replace")

    def _get(self, path: str) -> int:
        try:
            return self.request("GET", path, timeout=3)[0]
        except OSError:
            return 0

    def apply(self, obj: dict[str, Any]) -> None:
        """Create ``obj`` as admin, or replace it if it exists (cluster-scoped or namespaced)."""
        api = obj["apiVersion"]
        base = f"/api/{api}" if "/" not in api else f"/apis/{api}"
        ns = obj["metadata"].get("namespace")
        plural = _PLURALS[obj["kind"]]
        coll = f"{base}/namespaces/{ns}/{plural}" if ns else f"{base}/{plural}"
        status, body = self.request("POST", coll, obj)
        if status == 409:
            status, body = self.request("PUT", f"{coll}/{obj['metadata']['name']}", obj)
        if status >= 300:
            raise PlaneError(f"applying {obj['kind']} {obj['metadata']['name']}: {status} {body}")


_PLURALS = {
    "Namespace": "namespaces",
    "ClusterRole": "clusterroles",
    "ClusterRoleBinding": "clusterrolebindings",
    "Role": "roles",
    "RoleBinding": "rolebindings",
}
