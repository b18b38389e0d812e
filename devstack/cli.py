"""`kagent-substrate devstack <part>`: start one local stand-in (or all with `up`)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

PARTS: dict[str, tuple[str, str]] = {
    "kube": (
        "devstack.kubeapi.cli",
        "Kubernetes API stand-in (HTTPS, kubeconfig); --real: etcd + kube-apiserver + KCM",
    ),
    "substrate": ("devstack.substrate.cli", "ate-api simulator, template controller, router"),
}


def main(argv: Sequence[str]) -> int:
    """Dispatch to a devstack part."""
    args = list(argv)
    if not args or args[0] in {"-h", "--help"}:
        print("usage: kagent-substrate devstack <part> [options]\n\nparts:")
        for name, (_, desc) in PARTS.items():
            print(f"  {name:<10} {desc}")
        return 0 if args else 2
    if args[0] not in PARTS:
        print(f"kagent-substrate devstack: unknown part {args[0]!r}", file=sys.stderr)
        return 2
    if args[0] == "kube" and "--real" in args:
        args = [a for a in args if a != "--real"]
        module = importlib.import_module("devstack.realkube.cli")
    else:
        module = importlib.import_module(PARTS[args[0]][0])
    code: int = module.main(args[1:])
    return code
