"""Webhook-only admission rules (SPEC §4 W1-W6): the rules CEL cannot express well.

This is the only module that holds admission rules in Python; everything a CRD can say lives in
the CRD YAML. Each rule is a pure function of the (defaulted) object and never reads the
cluster. Messages name the field and say the fix; a token value is never quoted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from shared.naming import channel_env_segment
from shared.policy.verdict import FORBIDDEN, INVALID, Violation

_CREDENTIALS: Final = (
    ("telegram", "botToken", "telegram bot token"),
    ("slack", "botToken", "slack bot token"),
    ("slack", "appToken", "slack app token"),
)
_ENV_SOURCES_DENIED: Final = ("configMapKeyRef", "fieldRef", "resourceFieldRef", "fileKeyRef")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _credentials(
    spec: dict[str, Any],
) -> Iterator[tuple[int, dict[str, Any], str, str, str, dict[str, Any]]]:
    """(channel index, channel, block, key, label, credential) for every channel credential."""
    for i, channel in enumerate(_list(spec.get("channels"))):
        ch = _dict(channel)
        for block, key, label in _CREDENTIALS:
            cred = _dict(ch.get(block)).get(key)
            if isinstance(cred, dict):
                yield i, ch, block, key, label, cred


def agentharness_rules(
    obj: dict[str, Any], namespace: str
) -> tuple[list[Violation], list[tuple[str, str]]]:
    """W1-W6 for an AgentHarness: (violations, warnings as (rule id, text))."""
    spec = _dict(obj.get("spec"))
    substrate = spec.get("runtime") == "substrate"
    violations: list[Violation] = []
    warnings: list[tuple[str, str]] = []

    for i, channel, block, key, label, cred in _credentials(spec):
        w1 = substrate and _dict(cred.get("valueFrom")).get("type") == "ConfigMap"
        if not w1 and "value" not in cred:
            continue  # the common case: nothing to say, so no path or name to build
        name, path = str(channel.get("name", "")), f"spec.channels[{i}].{block}.{key}"
        if w1:  # W1
            violations.append(
                Violation(
                    f"{path}.valueFrom.type",
                    INVALID,
                    f'channel "{name}" {label}: Agent Substrate can only inject Secret references '
                    "into an actor; put the token in a Secret and use type: Secret",
                    "webhook:W1",
                    "ConfigMap",
                )
            )
        if "value" in cred:  # W5
            warnings.append(
                (
                    "webhook:W5",
                    f'{path}.value: channel "{name}" has an inline {label}; anyone who can read this '
                    f"AgentHarness can read it. Store it in a Secret and use {path}.valueFrom "
                    "with type: Secret",
                )
            )

    seen: dict[str, tuple[int, str]] = {}  # W2
    for i, channel in enumerate(_list(spec.get("channels"))):
        channel_name = _dict(channel).get("name")
        if not isinstance(channel_name, str) or not channel_name:
            continue
        segment = channel_env_segment(channel_name)
        first = seen.setdefault(segment, (i, channel_name))
        if first[1] != channel_name:
            violations.append(
                Violation(
                    f"spec.channels[{i}].name",
                    INVALID,
                    f'channel names "{first[1]}" (spec.channels[{first[0]}]) and "{channel_name}" '
                    f"both map to the environment variables KAGENT_SB_CH_{segment}_*; rename one of them",
                    "webhook:W2",
                    channel_name,
                )
            )

    if substrate:
        for i, env in enumerate(_list(spec.get("env"))):  # W3
            source = _dict(_dict(env).get("valueFrom"))
            for key in _ENV_SOURCES_DENIED:
                if key in source:
                    violations.append(
                        Violation(
                            f"spec.env[{i}].valueFrom.{key}",
                            FORBIDDEN,
                            "the substrate runtime can only apply literal values and secretKeyRef "
                            f"to the actor; {key} is not supported (use value or secretKeyRef)",
                            "webhook:W3",
                        )
                    )
        ref = spec.get("modelConfigRef")  # W4
        if isinstance(ref, str) and "/" in ref.strip():
            ref_ns = ref.strip().split("/", 1)[0]
            if ref_ns != namespace:
                violations.append(
                    Violation(
                        "spec.modelConfigRef",
                        INVALID,
                        f'on the substrate runtime the ModelConfig must be in the harness namespace "{namespace}" '
                        "(ate-api resolves its API-key Secret there); copy the ModelConfig into "
                        f'"{namespace}" and reference it by name',
                        "webhook:W4",
                        ref,
                    )
                )
        sub = _dict(spec.get("substrate"))
        if "gatewayToken" in sub:  # W5
            warnings.append(
                (
                    "webhook:W5",
                    "spec.substrate.gatewayToken: an inline gateway token is readable by anyone "
                    'who can read this AgentHarness; store it in a Secret (key "token") and use '
                    "spec.substrate.gatewayTokenSecretRef",
                )
            )
        for field in ("image", "network"):  # W6
            if field in spec:
                warnings.append(("webhook:W6", f"spec.{field} is ignored by the substrate runtime"))
    return violations, warnings


#: rule id -> (short description, help): for reports (SARIF rule metadata, docs/policy.md)
DESCRIPTIONS: Final = {
    "webhook:W1": (
        "Channel credential from a ConfigMap on the substrate runtime",
        "Agent Substrate can only inject Secret references into an actor: put the token in a "
        "Secret and use valueFrom.type: Secret.",
    ),
    "webhook:W2": (
        "Two channel names map to the same environment variables",
        "Channel names are normalised into KAGENT_SB_CH_<NAME>_* variables (tg-1 and tg_1 "
        "collide): rename one of the channels.",
    ),
    "webhook:W3": (
        "spec.env source the substrate runtime cannot apply",
        "On substrate only literal values and secretKeyRef reach the actor: use value or "
        "secretKeyRef instead of configMapKeyRef, fieldRef, resourceFieldRef or fileKeyRef.",
    ),
    "webhook:W4": (
        "modelConfigRef in another namespace on the substrate runtime",
        "ate-api resolves the ModelConfig's API-key Secret in the harness namespace: copy the "
        "ModelConfig there and reference it by name.",
    ),
    "webhook:W5": (
        "Inline token in the manifest",
        "Anyone who can read the object can read an inline token: store it in a Secret and "
        "reference it (gatewayTokenSecretRef, valueFrom.type: Secret).",
    ),
    "webhook:W6": (
        "Field ignored by the substrate runtime",
        "spec.image and spec.network do not apply on substrate; use spec.substrate.workloadImage.",
    ),
}

#: kind -> rule function
RULES: Final = {("kagent.dev", "AgentHarness"): agentharness_rules}
