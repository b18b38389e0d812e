"""The files of a SandboxAgent's config Secret (spec/sandboxagent_helm.md §4.1), pure and stable.

``config.json`` is our agent-config contract: the ``spec.declarative`` block (without the pod
settings of ``deployment``) with the resolved ModelConfig (provider, model, base URL and the
*name* of the env var that carries the API key, never the key) and the resolved system message.
Every file is serialised with sorted keys and no whitespace, so the same agent and inputs give
the same bytes and an unchanged agent never rewrites its Secret.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Final

from shared.naming import api_key_env_var

CONFIG_KEY: Final = "config.json"
CARD_KEY: Final = "agent-card.json"
SRT_KEY: Final = "srt-settings.json"
CONFIG_VERSION: Final = "kagent-substrate/v1"
CARD_PORT: Final = 8080
DEFAULT_MODEL_CONFIG: Final = "default-model-config"
"""The ModelConfig of an agent that names none (spec.declarative.modelConfig)."""


@dataclass(frozen=True, slots=True)
class Model:
    """The resolved ModelConfig of an agent (no secret values)."""

    provider: str
    model: str
    api_key_secret: str = ""
    api_key_secret_key: str = ""
    base_url: str = ""

    @property
    def api_key_env(self) -> str:
        """Env var carrying the API key (``ANTHROPIC_API_KEY``); "" without a key Secret."""
        return api_key_env_var(self.provider) if self.api_key_secret else ""


def stable_json(value: Any) -> str:
    """Deterministic compact JSON (sorted keys, UTF-8 kept)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def app_name(namespace: str, name: str) -> str:
    """Go ADK app name ``<ns>__NS__<name>`` with ``-`` as ``_`` (spec §3)."""
    return f"{namespace}__NS__{name}".replace("-", "_")


def agent_config(
    agent: dict[str, Any], model: Model | None, system_message: str | None
) -> dict[str, Any]:
    """The ``config.json`` document."""
    meta, spec = agent["metadata"], agent.get("spec") or {}
    declarative = dict(spec.get("declarative") or {})
    declarative.pop("deployment", None)
    declarative.pop("systemMessageFrom", None)
    if system_message is not None:
        declarative["systemMessage"] = system_message
    declarative["runtime"] = "go"
    doc: dict[str, Any] = {
        "version": CONFIG_VERSION,
        "name": meta["name"],
        "namespace": meta["namespace"],
        "appName": app_name(meta["namespace"], meta["name"]),
        "description": str(spec.get("description") or ""),
        "declarative": declarative,
    }
    if model is not None:
        doc["model"] = {
            "provider": model.provider,
            "model": model.model,
            "apiKeyEnv": model.api_key_env,
            "baseUrl": model.base_url,
        }
    return doc


def agent_card(agent: dict[str, Any]) -> dict[str, Any]:
    """The A2A 0.3 agent card of spec §4.1 (URL is the in-cluster one; the gateway rewrites it)."""
    meta, spec = agent["metadata"], agent.get("spec") or {}
    declarative = spec.get("declarative") or {}
    url = f"http://{meta['name']}.{meta['namespace']}:{CARD_PORT}"
    skills = (declarative.get("a2aConfig") or {}).get("skills") or []
    return {
        "name": meta["name"].replace("-", "_"),
        "description": str(spec.get("description") or ""),
        "url": url,
        "version": "",
        "protocolVersion": "0.3.0",
        "preferredTransport": "JSONRPC",
        "additionalInterfaces": [{"transport": "JSONRPC", "url": url}],
        "capabilities": {"streaming": True, "pushNotifications": False},
        "defaultInputModes": ["text"],
        "defaultOutputModes": ["text"],
        "skills": list(skills),
    }


def srt_settings(agent: dict[str, Any]) -> dict[str, Any] | None:
    """``srt-settings.json`` when ``executeCodeBlocks`` is true, else None."""
    spec = agent.get("spec") or {}
    if not (spec.get("declarative") or {}).get("executeCodeBlocks"):
        return None
    domains = ((spec.get("sandbox") or {}).get("network") or {}).get("allowedDomains") or []
    return {
        "filesystem": {"allowWrite": [".", "/tmp"], "denyRead": [], "denyWrite": []},
        "network": {"allowedDomains": [str(d) for d in domains], "deniedDomains": []},
    }


def config_hash(files: dict[str, str]) -> str:
    """Content hash of the config Secret's files (16 hex digits): changes with any of them."""
    return hashlib.sha256(stable_json(files).encode("utf-8")).hexdigest()[:16]


def secret_files(
    agent: dict[str, Any], model: Model | None, system_message: str | None
) -> dict[str, str]:
    """Key -> file content of the config Secret."""
    files = {
        CONFIG_KEY: stable_json(agent_config(agent, model, system_message)),
        CARD_KEY: stable_json(agent_card(agent)),
    }
    srt = srt_settings(agent)
    if srt is not None:
        files[SRT_KEY] = stable_json(srt)
    return files
