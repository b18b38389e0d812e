"""OpenClaw/NemoClaw bootstrap: ``openclaw.json``, the startup script and the container env.

Pure and deterministic (same input, same bytes), reproducing the reference's JSON byte for byte
(spec/agentharness.md §5.2-5.5, Go encoding/json escaping, struct key order, sorted maps), with
SPEC §6's fix: no token is ever written into the template. The gateway token and every channel
credential reach the actor as env ``secretKeyRef``s; the gateway token is put into
``openclaw.json`` by the startup script when the container starts.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from controller.substrate.model import ModelSettings
from controller.substrate.outcome import SpecError
from shared.naming import api_key_env_var, channel_env_var, control_ui_base_path, provider_id

GATEWAY_TOKEN_ENV: Final = "KAGENT_GATEWAY_TOKEN"
HOME_ENV: Final = {"name": "HOME", "value": "/root"}
ADAPTERS: Final = {
    "OpenAI": "openai-completions",
    "Anthropic": "anthropic-messages",
    "AzureOpenAI": "azure-openai-responses",
    "Ollama": "ollama",
    "Gemini": "google-generative-ai",
    "GeminiVertexAI": "google-generative-ai",
    "AnthropicVertexAI": "anthropic-messages",
    "Bedrock": "bedrock-converse-stream",
}
# Injects the token from the env into openclaw.json at container start (no single quotes inside).
# Trimmed exactly once, here, as the gateway proxy trims what it sends: a Secret written with a
# trailing newline (`--from-file`) must give the same token on both sides.
_INJECT_TOKEN: Final = (
    'node -e \'const fs=require("fs"),f=process.env.HOME+"/.openclaw/openclaw.json",'
    'c=JSON.parse(fs.readFileSync(f,"utf8"));'
    f'c.gateway.auth.token=(process.env.{GATEWAY_TOKEN_ENV}||"").trim();'
    "fs.writeFileSync(f,JSON.stringify(c))'"
)


class BootstrapError(SpecError):
    """A harness or ModelConfig that cannot be turned into an OpenClaw bootstrap."""


@dataclass(frozen=True, slots=True)
class Channel:
    """A channel of the harness spec, with credentials already turned into env var names."""

    name: str
    type: str
    allow_from: tuple[str, ...] = ()
    allow_from_env: str = ""
    """Env var (a ``secretKeyRef``) holding the telegram allowlist read from a Secret: the
    startup script puts it into openclaw.json when the container starts, so the Secret's value
    never enters the template (issue 15 item 2)."""
    channel_access: str = ""
    allowlist_channels: tuple[str, ...] = ()
    interactive_replies: bool = True


@dataclass(frozen=True, slots=True)
class Bootstrap:
    """The generated pieces of an ActorTemplate container."""

    config_json: str
    script: str
    env: list[dict[str, Any]] = field(default_factory=list)


def go_json(value: Any) -> str:
    """Compact JSON as Go's encoding/json writes it (HTML-safe escapes, raw non-ASCII)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def env_ref(var: str) -> dict[str, str]:
    """OpenClaw's ``{"source":"env","provider":"default","id":VAR}`` secret reference."""
    return {"source": "env", "provider": "default", "id": var}


def gateway_block(namespace: str, name: str, token: str) -> dict[str, Any]:
    """The ``gateway`` object (token omitted when empty)."""
    auth: dict[str, Any] = {"mode": "token"}
    if token:
        auth["token"] = token
    return {
        "mode": "local",
        "bind": "lan",
        "auth": auth,
        "port": 80,
        "controlUi": {
            "basePath": control_ui_base_path(namespace, name),
            "allowedOrigins": ["*"],
            "dangerouslyDisableDeviceAuth": True,
        },
    }


def _telegram(channels: Sequence[Channel]) -> dict[str, Any] | None:
    accounts: dict[str, Any] = {}
    for ch in channels:
        account: dict[str, Any] = {
            "name": ch.name,
            "enabled": True,
            "botToken": env_ref(channel_env_var(ch.name, "TELEGRAM_BOT")),
        }
        allow = [a.strip() for a in ch.allow_from if a.strip()]
        account["dmPolicy"] = "allowlist" if allow else "pairing"
        if allow:
            account["allowFrom"] = allow
        accounts[ch.name] = account
    if not accounts:
        return None
    return {
        "enabled": True,
        "accounts": dict(sorted(accounts.items())),
        "defaultAccount": channels[0].name,
    }


def _slack(channels: Sequence[Channel]) -> dict[str, Any] | None:
    accounts: dict[str, Any] = {}
    for ch in channels:
        account: dict[str, Any] = {
            "name": ch.name,
            "enabled": True,
            "mode": "socket",
            "botToken": env_ref(channel_env_var(ch.name, "SLACK_BOT")),
            "appToken": env_ref(channel_env_var(ch.name, "SLACK_APP")),
            "userTokenReadOnly": True,
            "groupPolicy": ch.channel_access or "open",
            "capabilities": {"interactiveReplies": ch.interactive_replies},
        }
        groups = [c.strip() for c in ch.allowlist_channels if c.strip()]
        if groups:
            account["dm"] = {"groupEnabled": True, "groupChannels": groups}
        accounts[ch.name] = account
    if not accounts:
        return None
    return {
        "enabled": True,
        "mode": "socket",
        "webhookPath": "/slack/events",
        "userTokenReadOnly": True,
        "groupPolicy": channels[0].channel_access or "open",
        "accounts": dict(sorted(accounts.items())),
        "defaultAccount": channels[0].name,
    }


def channel_env_names(channels: Sequence[Channel]) -> list[str]:
    """Env var names of the channel credentials, in spec order (slack: BOT then APP)."""
    names: list[str] = []
    for ch in channels:
        if ch.type == "telegram":
            names.append(channel_env_var(ch.name, "TELEGRAM_BOT"))
        elif ch.type == "slack":
            names += [channel_env_var(ch.name, "SLACK_BOT"), channel_env_var(ch.name, "SLACK_APP")]
    return names


def openclaw_config(
    namespace: str,
    name: str,
    token: str,
    model: ModelSettings | None,
    channels: Sequence[Channel] = (),
) -> dict[str, Any]:
    """The openclaw.json document (mode A without a model, mode B with one)."""
    gateway = gateway_block(namespace, name, token)
    if model is None:
        return {
            "gateway": gateway,
            "agents": {"defaults": {"model": {"primary": ""}}},
            "secrets": {"providers": None},
        }
    if model.api_key_passthrough:
        raise BootstrapError(
            "APIKeyPassthrough is not supported for Substrate OpenClaw provisioning from ModelConfig"
        )
    if not model.api_key_secret or not model.api_key_secret_key:
        raise BootstrapError("the ModelConfig requires apiKeySecret and apiKeySecretKey")
    if model.provider == "SAPAICore":
        raise BootstrapError(
            "model provider SAPAICore is not supported for OpenClaw sandbox JSON bootstrap"
        )
    adapter = ADAPTERS.get(model.provider)
    if adapter is None:
        raise BootstrapError(
            f'model provider "{model.provider}" is not supported for OpenClaw sandbox JSON bootstrap yet'
        )
    model_name = model.model.strip()
    if not model_name:
        raise BootstrapError("ModelConfig.spec.model is required for OpenClaw bootstrap JSON")
    pid, key_var = provider_id(model.provider), api_key_env_var(model.provider)
    doc: dict[str, Any] = {"gateway": gateway}
    if model.base_url.strip():
        doc["models"] = {
            "mode": "merge",
            "providers": {
                pid: {
                    "baseUrl": model.base_url.strip(),
                    "apiKey": env_ref(key_var),
                    "auth": "aws-sdk" if model.provider == "Bedrock" else "api-key",
                    "api": adapter,
                    "models": [{"id": model_name, "name": model_name}],
                }
            },
        }
    doc["agents"] = {"defaults": {"model": {"primary": f"{pid}/{model_name}"}}}
    bundles = {
        "telegram": _telegram([c for c in channels if c.type == "telegram"]),
        "slack": _slack([c for c in channels if c.type == "slack"]),
    }
    present = {k: v for k, v in bundles.items() if v is not None}
    if present:
        doc["channels"] = present
    allowlist = sorted({key_var, *channel_env_names(channels)})
    doc["secrets"] = {
        "providers": {"default": {"source": "env", "allowlist": allowlist}},
        "defaults": {"env": "default"},
    }
    return doc


def allow_from_env_var(channel: str) -> str:
    """The env var carrying a telegram channel's allowlist from a Secret."""
    return channel_env_var(channel, "TELEGRAM_ALLOW_FROM")


def _inject_allow_from(channels: Sequence[Channel]) -> str | None:
    """Node one-liner: allowlists from env (Secret refs) into openclaw.json at start.

    The value is split on commas, semicolons and newlines like the controller splits a
    ConfigMap's; a non-empty list turns ``dmPolicy`` to ``allowlist``.
    """
    pairs = [
        [c.name, c.allow_from_env] for c in channels if c.type == "telegram" and c.allow_from_env
    ]
    if not pairs:
        return None
    table = json.dumps(pairs, separators=(",", ":")).replace("'", "\\u0027")
    return (
        'node -e \'const fs=require("fs"),f=process.env.HOME+"/.openclaw/openclaw.json",'
        'c=JSON.parse(fs.readFileSync(f,"utf8"));'
        f"for(const[a,v]of {table}){{"
        'const l=(process.env[v]||"").split(/[,;\\n]/).map(s=>s.trim()).filter(Boolean),'
        "x=(((c.channels||{}).telegram||{}).accounts||{})[a];"
        'if(x&&l.length){x.dmPolicy="allowlist";x.allowFrom=l}}'
        "fs.writeFileSync(f,JSON.stringify(c))'"
    )


def startup_script(config_json: str, inject_token: bool, channels: Sequence[Channel] = ()) -> str:
    """The container's ``/bin/sh -c`` script (reference layout; token and Secret-held
    allowlists injected at start)."""
    encoded = base64.b64encode(config_json.encode("utf-8")).decode("ascii")
    lines = [
        "set -e",
        'mkdir -p "${HOME}/.openclaw"',
        f"echo '{encoded}' | base64 -d > \"${{HOME}}/.openclaw/openclaw.json\"",
    ]
    if inject_token:
        lines.append(_INJECT_TOKEN)
    allow = _inject_allow_from(channels)
    if allow is not None:
        lines.append(allow)
    lines.append("openclaw gateway run --port 80 --allow-unconfigured")
    return "\n".join(lines)
