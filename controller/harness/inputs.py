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
from controller.harness.claw import Channel
from controller.harness.credentials import GATEWAY_KEY, owned_secret_name
from controller.runtime.cache import Reader
from controller.substrate.env import sanitize_env, secret_env
from controller.substrate.model import ModelSettings, model_settings
from controller.substrate.objects import owner_reference
from controller.substrate.outcome import SpecError
from controller.substrate.references import missing_key, read_reference
from shared.kube.resources import CONFIG_MAP, SECRET
from shared.naming import channel_env_var
from shared.secrets import Secret

GATEWAY_FIELD: Final = "spec.substrate.gatewayTokenSecretRef"
MAX_ALLOWLIST_BYTES: Final = 64 * 1024
"""Largest telegram allowlist read from a ConfigMap (it is written into openclaw.json)."""
_ROLES: Final = (
    ("telegram", "botToken", "TELEGRAM_BOT"),
    ("slack", "botToken", "SLACK_BOT"),
    ("slack", "appToken", "SLACK_APP"),
)


@dataclass(slots=True)
class Inputs:
    """Everything the template needs, resolved."""

    model: ModelSettings | None = None
    channels: list[Channel] = field(default_factory=list)
    env: list[dict[str, Any]] = field(default_factory=list)
    owned_secret_data: dict[str, Secret] = field(default_factory=dict)
    """Inline tokens to copy into the owned Secret (key -> value)."""
    has_gateway_token: bool = False


def _decode(data: dict[str, Any], key: str) -> str:
    raw = data.get(key)
    if raw is None:
        return ""
    try:
        return base64.b64decode(raw).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return ""


async def gateway_token_env(
    client: Reader, harness: dict[str, Any], owned: str, inputs: Inputs
) -> None:
    """The gateway token env: the user's Secret (checked: key "token" non-blank) or the owned one."""
    meta, sub = harness["metadata"], (harness.get("spec") or {}).get("substrate") or {}
    ns = meta["namespace"]
    ref = str((sub.get("gatewayTokenSecretRef") or {}).get("name") or "").strip()
    if ref:
        what = "gateway token secret"
        secret = await read_reference(client, SECRET, ns, ref, field=GATEWAY_FIELD, what=what)
        data = secret.get("data") or {}
        problem = ""
        if not data and not secret.get("stringData"):
            problem = f"{what} {ns}/{ref} is empty"
        elif GATEWAY_KEY not in data:
            problem = f'{what} {ns}/{ref} missing key "token"'
        elif not _decode(data, GATEWAY_KEY).strip():
            problem = f'{what} {ns}/{ref} key "token" must not be empty'
        if problem:
            raise missing_key(SECRET, ns, ref, GATEWAY_KEY, problem)
        inputs.env.append(secret_env(claw.GATEWAY_TOKEN_ENV, ref, GATEWAY_KEY))
        inputs.has_gateway_token = True
        return
    inline = str(sub.get("gatewayToken") or "").strip()
    if inline:
        inputs.owned_secret_data[GATEWAY_KEY] = Secret(inline)
        inputs.env.append(secret_env(claw.GATEWAY_TOKEN_ENV, owned, GATEWAY_KEY))
        inputs.has_gateway_token = True


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
    field = f'spec.channels["{channel}"].telegram.allowedUserIDsFrom'
    res = SECRET if kind == "Secret" else CONFIG_MAP
    obj = await read_reference(client, res, namespace, name, field=field, what=what)
    if kind == "Secret":
        # Read only to report a missing Secret or key now; the value never leaves the Secret.
        if key not in (obj.get("data") or {}):
            raise missing_key(
                res, namespace, name, key, f'{what} {namespace}/{name} has no key "{key}"'
            )
        var = claw.allow_from_env_var(channel)
        inputs.env.append(secret_env(var, name, key))
        return Channel(name=channel, type="telegram", allow_from_env=var)
    text = str((obj.get("data") or {}).get(key) or "")
    size = len(text.encode())
    if size > MAX_ALLOWLIST_BYTES:
        raise SpecError(
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
                inputs.env.append(secret_env(var, source["name"], source["key"]))
            else:
                inputs.owned_secret_data[var] = Secret(str(cred.get("value", "")))
                inputs.env.append(secret_env(var, owned, var))
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
    """All inputs of the harness's template; raises `SpecError` with the condition text."""
    meta, spec = harness["metadata"], harness.get("spec") or {}
    owned = owned_secret_name(meta["namespace"], meta["name"])
    inputs = Inputs()
    ref = str(spec.get("modelConfigRef") or "").strip()
    if ref:
        inputs.model = await model_settings(client, meta["namespace"], ref, "spec.modelConfigRef")
        inputs.env.append(
            secret_env(
                f"{inputs.model.provider.upper()}_API_KEY",
                inputs.model.api_key_secret,
                inputs.model.api_key_secret_key,
            )
        )
        await channels(client, harness, owned, inputs)
    await gateway_token_env(client, harness, owned, inputs)
    inputs.env += [*(spec.get("env") or []), claw.HOME_ENV]
    inputs.env = sanitize_env(inputs.env)
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
