"""Two ServiceAccounts for gateway tests on the real apiserver: ``caller-ok`` bound to a Role
allowing ``create`` on ``sandboxagents/gateway``, ``caller-denied`` with no grant."""

from __future__ import annotations

from devstack.stack import LocalStack


def gateway_caller_tokens(stack: LocalStack, ns: str) -> tuple[str, str]:
    """Create both accounts and the grant in ``ns``; their TokenRequest tokens (ok, denied)."""
    for sa in ("caller-ok", "caller-denied"):
        stack.kubectl("create", "serviceaccount", sa, "-n", ns)
    stack.kubectl(
        "create",
        "role",
        "gateway-caller",
        "-n",
        ns,
        "--verb=create",
        "--resource=sandboxagents.kagent.dev/gateway",
    )
    stack.kubectl(
        "create",
        "rolebinding",
        "gateway-caller",
        "-n",
        ns,
        "--role=gateway-caller",
        f"--serviceaccount={ns}:caller-ok",
    )
    ok = stack.kubectl("create", "token", "caller-ok", "-n", ns).stdout.strip()
    denied = stack.kubectl("create", "token", "caller-denied", "-n", ns).stdout.strip()
    return ok, denied
