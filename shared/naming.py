"""Pure naming functions: ids, names, labels and environment variable names.

These follow the reference (spec/agentharness.md §3, spec/sandboxagent_helm.md §3) where its
result is unambiguous and valid, and the hashed forms of SPEC §5 otherwise.
"""

from __future__ import annotations

from typing import Final

CHANNEL_ENV_PREFIX: Final = "KAGENT_SB_CH_"


def channel_env_segment(channel_name: str) -> str:
    """The ``S`` of ``KAGENT_SB_CH_<S>_<ROLE>``: upper-cased, non ``A-Z0-9`` to ``_``, trimmed."""
    upper = channel_name.strip().upper()
    mapped = "".join(c if ("A" <= c <= "Z" or "0" <= c <= "9") else "_" for c in upper)
    return mapped.strip("_") or "CH"


def channel_env_var(channel_name: str, role: str) -> str:
    """``KAGENT_SB_CH_<S>_<ROLE>`` with ROLE one of TELEGRAM_BOT, SLACK_BOT, SLACK_APP."""
    return f"{CHANNEL_ENV_PREFIX}{channel_env_segment(channel_name)}_{role}"


def default_snapshots_location(namespace: str, name: str) -> str:
    """``gs://ate-snapshots/<ns>/<name>``."""
    return f"gs://ate-snapshots/{namespace}/{name}"
