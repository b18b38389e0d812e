"""Resolve what a harness references (Secrets, ConfigMaps, ModelConfig) into template inputs.

Every credential becomes an env ``secretKeyRef``: a user's Secret is referenced as is; an inline
token from the spec is first copied into a Secret the harness owns (SPEC §6). Token values are
held only as `shared.secrets.Secret` and never appear in errors.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Final

from controller.harness import claw
from controller.harness.claw import Channel, ModelSettings
from controller.objects import owner_reference
from controller.runtime.cache import Reader
from shared.kube import errors as kerr
from shared.kube.resources import CONFIG_MAP, MODEL_CONFIG, SECRET
from shared.naming import HARNESS_PREFIX, channel_env_var, hashed_id
from shared.secrets import Secret

GATEWAY_KEY: Final = "token"
MAX_ALLOWLIST_BYTES: Final = 64 * 1024
"""Largest telegram allowlist read from a ConfigMap (it is written into openclaw.json)."""
_ROLES: Final = (
    ("telegram", "botToken", "TELEGRAM_BOT"),
    ("slack", "botToken", "SLACK_BOT"),
    ("slack", "appToken", "SLACK_APP"),
)
_BASE_URLS: Final = (
    ("openAI", "baseUrl"),
    ("anthropic", "baseUrl"),
    ("azureOpenAI", "azureEndpoint"),
    ("ollama", "host"),
    ("sapAICore", "baseUrl"),
)


class InputsError(ValueError):
    """A referenced object is missing or unusable; the message is the condition text."""


@dataclass(slots=True)
class Inputs:
    """Everything the template needs, resolved."""

    model: ModelSettings | None = None
    channels: list[Channel] = field(default_factory=list)
    env: list[dict[str, Any]] = field(default_factory=list)
    owned_secret_data: dict[str, Secret] = field(default_factory=dict)
    """Inline tokens to copy into the owned Secret (key -> value)."""
    has_gateway_token: bool = False


def owned_secret_name(namespace: str, name: str) -> str:
    """Name of the Secret holding a harness's inline tokens."""
    raw = f"{name}-substrate-credentials"
    return raw if len(raw) <= 253 else hashed_id(HARNESS_PREFIX, namespace, name) + "-credentials"


def _decode(data: dict[str, Any], key: str) -> str:
    raw = data.get(key)
    if raw is None:
        return ""
    try:
        return base64.b64decode(raw).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return ""


async def _read(client: Reader, res: Any, namespace: str, name: str, what: str) -> dict[str, Any]:
    try:
        return await client.get(res, name, namespace)
    except kerr.NotFound:
        raise InputsError(f"{what} {namespace}/{name} not found") from None


async def gateway_token_env(
    client: Reader, harness: dict[str, Any], owned: str, inputs: Inputs
) -> None:
    """The gateway token env: the user's Secret (checked: key "token" non-blank) or the owned one."""
    meta, sub = harness["metadata"], (harness.get("spec") or {}).get("substrate") or {}
    ns = meta["namespace"]
    ref = str((sub.get("gatewayTokenSecretRef") or {}).get("name") or "").strip()
    if ref:
        secret = await _read(client, SECRET, ns, ref, "gateway token secret")
        data = secret.get("data") or {}
        if not data and not secret.get("stringData"):
            raise InputsError(f"gateway token secret {ns}/{ref} is empty")
        if GATEWAY_KEY not in data:
            raise InputsError(f'gateway token secret {ns}/{ref} missing key "token"')
        if not _decode(data, GATEWAY_KEY).strip():
            raise InputsError(f'gateway token secret {ns}/{ref} key "token" must not be empty')
        inputs.env.append(claw.secret_env(claw.GATEWAY_TOKEN_ENV, ref, GATEWAY_KEY))
        inputs.has_gateway_token = True
        return
    inline = str(sub.get("gatewayToken") or "").strip()
    if inline:
        inputs.owned_secret_data[GATEWAY_KEY] = Secret(inline)
        inputs.env.append(claw.secret_env(claw.GATEWAY_TOKEN_ENV, owned, GATEWAY_KEY))
        inputs.has_gateway_token = True


async def model_settings(client: Reader, namespace: str, ref: str) -> ModelSettings:
    """The ModelConfig named by ``modelConfigRef`` (same namespace; W4 enforces it)."""
    ref = ref.strip()
    ns, _, name = ref.rpartition("/")
    ns = ns or namespace
    if "/" in ns:
        raise InputsError(
            f'parse modelConfigRef "{ref}": reference cannot contain more than one slash'
        )
    mc = await _read(client, MODEL_CONFIG, ns, name, "ModelConfig")
    spec = mc.get("spec") or {}
    base = next(
        (
            str((spec.get(b) or {}).get(k) or "")
            for b, k in _BASE_URLS
            if (spec.get(b) or {}).get(k)
        ),
        "",
    )
    return ModelSettings(
        provider=str(spec.get("provider") or ""),
        model=str(spec.get("model") or ""),
        api_key_secret=str(spec.get("apiKeySecret") or ""),
        api_key_secret_key=str(spec.get("apiKeySecretKey") or ""),
        base_url=base,
        api_key_passthrough=bool(spec.get("apiKeyPassthrough")),
    )


async def _allow_from(
    client: Reader, namespace: str, tg: dict[str, Any], channel: str, inputs: Inputs
) -> Channel:
    """The telegram channel with its allowlist: listed, from a ConfigMap (copied), or from a
    Secret (only referenced: an env ``secretKeyRef`` the startup script reads)."""
    listed = [str(x).strip() for x in tg.get("allowedUserIDs") or [] if str(x).strip()]
    if listed:
        return Channel(name=channel, type="telegram", allow_from=tuple(listed))
    source = tg.get("allowedUserIDsFrom") or {}
    if not source:
        return Channel(name=channel, type="telegram")
    kind, name, key = source.get("type"), source.get("name", ""), source.get("key", "")
    what = f'channel "{channel}" telegram allowlist: {kind}'
    if kind == "Secret":
        # Read only to report a missing Secret or key now; the value never leaves the Secret.
        obj = await _read(client, SECRET, namespace, name, what)
        if key not in (obj.get("data") or {}):
            raise InputsError(f'{what} {namespace}/{name} has no key "{key}"')
        var = claw.allow_from_env_var(channel)
        inputs.env.append(claw.secret_env(var, name, key))
        return Channel(name=channel, type="telegram", allow_from_env=var)
    obj = await _read(client, CONFIG_MAP, namespace, name, what)
    text = str((obj.get("data") or {}).get(key) or "")
    size = len(text.encode())
    if size > MAX_ALLOWLIST_BYTES:
        raise InputsError(
            f'{what} {namespace}/{name} key "{key}" holds {size} bytes; allowedUserIDsFrom '
            f"is limited to {MAX_ALLOWLIST_BYTES} bytes (every byte is copied into the "
            "ActorTemplate): list fewer IDs"
        )
    for sep in (",", ";"):
        text = text.replace(sep, "\n")
    allow = tuple(x.strip() for x in text.splitlines() if x.strip())
    return Channel(name=channel, type="telegram", allow_from=allow)


async def channels(client: Reader, harness: dict[str, Any], owned: str, inputs: Inputs) -> None:
    """Channel list and one env entry per credential (user Secret ref or owned Secret key)."""
    ns = harness["metadata"]["namespace"]
    for ch in (harness.get("spec") or {}).get("channels") or []:
        name, ctype = str(ch.get("name", "")), str(ch.get("type", ""))
        block = ch.get(ctype) or {}
        for btype, key, role in _ROLES:
            if btype != ctype:
                continue
            cred = block.get(key) or {}
            var = channel_env_var(name, role)
            source = cred.get("valueFrom")
            if source:
                inputs.env.append(claw.secret_env(var, source["name"], source["key"]))
            else:
                inputs.owned_secret_data[var] = Secret(str(cred.get("value", "")))
                inputs.env.append(claw.secret_env(var, owned, var))
        if ctype == "telegram":
            inputs.channels.append(await _allow_from(client, ns, block, name, inputs))
        elif ctype == "slack":
            oc = block.get("openclaw") or {}
            inputs.channels.append(
                Channel(
                    name=name,
                    type="slack",
                    channel_access=str(oc.get("channelAccess") or ""),
                    allowlist_channels=tuple(str(c) for c in oc.get("allowlistChannels") or []),
                    interactive_replies=bool(oc.get("interactiveReplies", True)),
                )
            )


async def resolve(client: Reader, harness: dict[str, Any]) -> Inputs:
    """All inputs of the harness's template; raises `InputsError` with the condition text."""
    meta, spec = harness["metadata"], harness.get("spec") or {}
    owned = owned_secret_name(meta["namespace"], meta["name"])
    inputs = Inputs()
    ref = str(spec.get("modelConfigRef") or "").strip()
    if ref:
        inputs.model = await model_settings(client, meta["namespace"], ref)
        inputs.env.append(
            claw.secret_env(
                f"{inputs.model.provider.upper()}_API_KEY",
                inputs.model.api_key_secret,
                inputs.model.api_key_secret_key,
            )
        )
        await channels(client, harness, owned, inputs)
    await gateway_token_env(client, harness, owned, inputs)
    inputs.env += [*(spec.get("env") or []), claw.HOME_ENV]
    inputs.env = claw.sanitize_env(inputs.env)
    return inputs


def owned_secret(harness: dict[str, Any], data: dict[str, Secret]) -> dict[str, Any]:
    """The owned Secret object (values base64-encoded; only ever sent to the API)."""
    meta = harness["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": owned_secret_name(meta["namespace"], meta["name"]),
            "namespace": meta["namespace"],
            "labels": {"app.kubernetes.io/managed-by": "kagent"},
            "ownerReferences": [owner_reference(harness, "AgentHarness")],
        },
        "data": {
            k: base64.b64encode(v.reveal().encode()).decode() for k, v in sorted(data.items())
        },
    }
