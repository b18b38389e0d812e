"""Pure naming functions: actor ids, object names, labels, hosts and environment variables.

The reference forms (spec/agentharness.md §3, spec/sandboxagent_helm.md §3) are used when they
are unambiguous and valid; otherwise the hashed form of SPEC §5,
``<prefix>-<hex(sha256(ns/name[/session]))[:24]>``, which is always a valid DNS-1123 label of
28 characters. Nothing here truncates: truncation is what made the reference collide.
"""

from __future__ import annotations

import hashlib
import re
from typing import Final
from urllib.parse import urlsplit

HARNESS_PREFIX: Final = "ahr"
SANDBOX_PREFIX: Final = "asr"
ACTOR_HOST_SUFFIX: Final = "actors.resources.substrate.ate.dev"
DEFAULT_ROUTER_URL: Final = "http://atenet-router.ate-system.svc:80"
CHANNEL_ENV_PREFIX: Final = "KAGENT_SB_CH_"
HARNESS_LABEL: Final = "kagent.dev/agent-harness"
SANDBOX_LABEL: Final = "kagent.dev/sandbox-agent"
MANAGED_BY_LABEL: Final = "app.kubernetes.io/managed-by"
MAX_LABEL: Final = 63
_DNS_LABEL: Final = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_VALUE: Final = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_HASHED_FORM: Final = re.compile(r"^(ahr|asr)-[0-9a-f]{24}$")
"""What `hashed_id` returns for our prefixes: a name of this shape is never used as given."""


class NamingError(ValueError):
    """A name that cannot be built (e.g. a missing actor id); the message says which."""


def is_dns_label(value: str) -> bool:
    """A DNS-1123 label: lower-case alphanumerics and '-', at most 63 characters."""
    return len(value) <= MAX_LABEL and bool(_DNS_LABEL.match(value))


def hashed_id(prefix: str, *parts: str) -> str:
    """``<prefix>-<first 24 hex of sha256("a/b[/c]")>``: collision-free and always valid."""
    digest = hashlib.sha256("/".join(parts).encode("utf-8")).hexdigest()
    return f"{prefix}-{digest[:24]}"


def _reference_join(prefix: str, namespace: str, name: str) -> str:
    return f"{prefix}-{namespace}-{name}".lower().replace("_", "-")


def harness_actor_id(namespace: str, name: str) -> str:
    """AgentHarness actor id: ``ahr-<ns>-<name>`` when that is a valid label, else hashed.

    The join is still ambiguous (``a-b``/``c`` vs ``a``/``b-c``); the controller detects that
    by the actor's template and falls back to `harness_actor_id_hashed` (SPEC §5).
    """
    raw = _reference_join(HARNESS_PREFIX, namespace, name)
    return raw if is_dns_label(raw) else harness_actor_id_hashed(namespace, name)


def harness_actor_id_hashed(namespace: str, name: str) -> str:
    """The hashed AgentHarness actor id (used on a detected conflict)."""
    return hashed_id(HARNESS_PREFIX, namespace, name)


def harness_template_name(namespace: str, name: str) -> str:
    """AgentHarness ActorTemplate name: the harness name, or the hashed form when it is longer
    than 63 or could be another object's template name.

    Template names of the two kinds never meet (issue 15 item 3): a harness named ``asr-…``
    (a SandboxAgent template's form) or shaped like a hashed name gets the hashed form, so
    AgentHarness ``asr-x`` and SandboxAgent ``x`` no longer share template ``asr-x``.
    """
    taken = name.startswith(SANDBOX_PREFIX + "-") or _HASHED_FORM.match(name)
    if len(name) <= MAX_LABEL and not taken:
        return name
    return hashed_id(HARNESS_PREFIX, namespace, name)


def sandbox_template_name(namespace: str, name: str) -> str:
    """SandboxAgent ActorTemplate name: ``asr-<name>`` (never shared with a harness template),
    hashed when longer than 63 or shaped like another agent's hashed name."""
    raw = f"{SANDBOX_PREFIX}-{name}"
    if len(raw) <= MAX_LABEL and not _HASHED_FORM.match(raw):
        return raw
    return hashed_id(SANDBOX_PREFIX, namespace, name)


def sandbox_agent_prefix(namespace: str, name: str) -> str:
    """The reference per-agent actor id ``asr-<ns>-<name>`` (or hashed when not a valid label)."""
    raw = _reference_join(SANDBOX_PREFIX, namespace, name)
    return raw if is_dns_label(raw) else hashed_id(SANDBOX_PREFIX, namespace, name)


def sandbox_session_actor_id(namespace: str, name: str, session_id: str) -> str:
    """Session actor id: the reference readable form when valid, else the hashed form.

    Hash input is the real ns/name and the session id exactly as passed (spec §3, S1-S11).
    """
    prefix = _reference_join(SANDBOX_PREFIX, namespace, name)
    session = session_id.strip().lower().replace("_", "-")
    raw = f"{prefix}-{session}"
    if is_dns_label(raw) and is_dns_label(prefix):
        return raw
    return hashed_id(SANDBOX_PREFIX, namespace, name, session_id)


def label_value(value: str, prefix: str, namespace: str) -> str:
    """A label value: ``value`` when valid (<= 63), else the hashed form of ns/value."""
    if len(value) <= MAX_LABEL and _LABEL_VALUE.match(value):
        return value
    return hashed_id(prefix, namespace, value)


def actor_host(actor_id: str, suffix: str = "") -> str:
    """``<id>.actors.resources.substrate.ate.dev`` (or a custom suffix)."""
    return f"{actor_id}.{suffix or ACTOR_HOST_SUFFIX}"


def gateway_router_target(router_url: str, actor_id: str) -> tuple[str, str]:
    """(router base URL, Host header) for an actor, with the reference's errors."""
    url = router_url.strip() or DEFAULT_ROUTER_URL
    actor = actor_id.strip()
    if not actor:
        raise NamingError("actor id is required")
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError as exc:
        raise NamingError(f'parse atenet-router URL "{url}": {exc}') from exc
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise NamingError(f'atenet-router URL "{url}" must include a scheme (http or https)')
    return url, actor_host(actor)


def control_ui_base_path(namespace: str, name: str) -> str:
    """``/api/agentharnesses/<ns>/<name>/gateway``."""
    return f"/api/agentharnesses/{namespace}/{name}/gateway"


def channel_env_segment(channel_name: str) -> str:
    """The ``S`` of ``KAGENT_SB_CH_<S>_<ROLE>``: upper-cased, non ``A-Z0-9`` to ``_``, trimmed."""
    upper = channel_name.strip().upper()
    if upper.isascii() and upper.isalnum():  # the common case: already A-Z0-9 only
        return upper
    mapped = "".join(c if ("A" <= c <= "Z" or "0" <= c <= "9") else "_" for c in upper)
    return mapped.strip("_") or "CH"


def channel_env_var(channel_name: str, role: str) -> str:
    """``KAGENT_SB_CH_<S>_<ROLE>`` with ROLE one of TELEGRAM_BOT, SLACK_BOT, SLACK_APP."""
    return f"{CHANNEL_ENV_PREFIX}{channel_env_segment(channel_name)}_{role}"


def api_key_env_var(provider: str) -> str:
    """``OPENAI_API_KEY`` for provider ``OpenAI``."""
    return provider.upper() + "_API_KEY"


def provider_id(provider: str) -> str:
    """``openai`` for provider ``OpenAI``."""
    return provider.lower()


def default_snapshots_location(namespace: str, name: str) -> str:
    """``gs://ate-snapshots/<ns>/<name>``."""
    return f"gs://ate-snapshots/{namespace}/{name}"


def name_from_labels(labels: dict[str, str] | None, key: str) -> str:
    """The trimmed label value, ``""`` when absent (reference helper; we map by ownerReferences)."""
    return (labels or {}).get(key, "").strip()
