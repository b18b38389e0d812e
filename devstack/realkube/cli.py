"""`kagent-substrate devstack kube --real`: a real control plane (etcd, kube-apiserver,
kube-controller-manager v1.37) on loopback, with the same flags and READY line as the stand-in.

``--auth-file`` takes the stand-in's format: ``users`` become static-token users of the
apiserver, ``rules`` become ClusterRoles (or Roles, with ``namespaces``) and their bindings.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from devstack.realkube import binaries
from devstack.realkube.plane import ADMIN, ControlPlane, PlaneError, TokenUser


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kagent-substrate devstack kube --real",
        description="Run etcd, kube-apiserver and kube-controller-manager "
        f"{binaries.KUBE_VERSION} on 127.0.0.1 (binaries from 'make realkube') and write an "
        "admin kubeconfig. Prints 'READY https://127.0.0.1:PORT kubeconfig=PATH' once usable.",
    )
    p.add_argument("--kubeconfig", type=Path, required=True, help="where to write the kubeconfig")
    p.add_argument(
        "--state-dir",
        type=Path,
        required=True,
        help="work folder: certificates, etcd data, logs (logs/<process>.log)",
    )
    p.add_argument(
        "--auth-file", type=Path, default=None, help="YAML with users (tokens) and RBAC rules"
    )
    p.add_argument(
        "--audit-user",
        action="append",
        default=[],
        metavar="USER",
        help="write USER's requests to <state-dir>/logs/audit.log (repeatable; JSON lines)",
    )
    p.add_argument(
        "--build",
        action="store_true",
        help="build the binaries first if they are missing (runs devstack/realkube/build.sh)",
    )
    return p


def _load_auth(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"--auth-file {path}: cannot read it: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"--auth-file {path}: expected a mapping with users and rules")
    return data


def rbac_objects(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stand-in's rules as RBAC objects: one (Cluster)Role and binding per rule."""
    out: list[dict[str, Any]] = []
    for i, rule in enumerate(rules):
        name = f"devstack-rule-{i}"
        subjects = [
            {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": u}
            for u in rule.get("users") or []
        ] + [
            {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": g}
            for g in rule.get("groups") or []
        ]
        policy = {
            "verbs": rule.get("verbs") or ["*"],
            "apiGroups": rule.get("apiGroups") or ["*"],
            "resources": rule.get("resources") or ["*"],
        }
        namespaces = rule.get("namespaces") or []
        if not namespaces:
            role = {"kind": "ClusterRole", "name": name}
            out.append(
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "ClusterRole",
                    "metadata": {"name": name},
                    "rules": [policy],
                }
            )
            out.append(
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "ClusterRoleBinding",
                    "metadata": {"name": name},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", **role},
                    "subjects": subjects,
                }
            )
            continue
        for ns in namespaces:
            out.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
            out.append(
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "Role",
                    "metadata": {"name": name, "namespace": ns},
                    "rules": [policy],
                }
            )
            out.append(
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "RoleBinding",
                    "metadata": {"name": name, "namespace": ns},
                    "roleRef": {
                        "apiGroup": "rbac.authorization.k8s.io",
                        "kind": "Role",
                        "name": name,
                    },
                    "subjects": subjects,
                }
            )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Start the control plane, print READY, serve until SIGINT/SIGTERM."""
    try:
        args = _parser().parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:
        return int(exc.code or 0)
    prog = "kagent-substrate devstack kube --real"
    try:
        auth = _load_auth(args.auth_file)
        users = [
            TokenUser(str(u["name"]), str(u["token"]), tuple(u.get("groups") or ()))
            for u in auth.get("users") or []
        ]
        bin_dir = binaries.build() if args.build else binaries.find()
    except (ValueError, KeyError, binaries.BinariesMissing) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    plane = ControlPlane(
        args.state_dir.resolve(),
        bin_dir,
        users=users,
        audit_users=args.audit_user,
        admin_token=os.environ.get("KUBEAPI_ADMIN_TOKEN") or secrets.token_urlsafe(24),
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        plane.up()
        for obj in rbac_objects(list(auth.get("rules") or [])):
            plane.apply(obj)
        target = args.kubeconfig.resolve()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch(mode=0o600, exist_ok=True)
        target.write_text(plane.kubeconfig_path(ADMIN).read_text())
        print(f"READY {plane.url} kubeconfig={target} logs={plane.logs}", flush=True)
        while not stop.wait(1.0):
            plane.check_alive()
    except PlaneError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    finally:
        plane.down()
    return 0
