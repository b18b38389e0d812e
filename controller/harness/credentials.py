"""Where a harness's gateway token lives: the key, and the Secret the harness owns for inline
tokens (the gateway reads both; it never imports the reconciler)."""

from __future__ import annotations

from typing import Final

from shared.naming import HARNESS_PREFIX, hashed_id

GATEWAY_KEY: Final = "token"


def owned_secret_name(namespace: str, name: str) -> str:
    """Name of the Secret holding a harness's inline tokens."""
    raw = f"{name}-substrate-credentials"
    return raw if len(raw) <= 253 else hashed_id(HARNESS_PREFIX, namespace, name) + "-credentials"
