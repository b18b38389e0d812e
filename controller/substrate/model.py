"""What a ModelConfig gives an actor: provider, model, where its API key is (never the key)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from controller.runtime.cache import Reader
from controller.substrate.outcome import SpecError
from controller.substrate.references import read_reference
from shared.kube.resources import MODEL_CONFIG

_BASE_URLS: Final = (
    ("openAI", "baseUrl"),
    ("anthropic", "baseUrl"),
    ("azureOpenAI", "azureEndpoint"),
    ("ollama", "host"),
    ("sapAICore", "baseUrl"),
)


@dataclass(frozen=True, slots=True)
class ModelSettings:
    """What openclaw.json needs from a resolved ModelConfig (never the key itself)."""

    provider: str
    model: str
    api_key_secret: str
    api_key_secret_key: str
    base_url: str = ""
    api_key_passthrough: bool = False


async def model_settings(client: Reader, namespace: str, ref: str, field: str) -> ModelSettings:
    """The ModelConfig named by ``ref`` (``name`` or ``namespace/name``); ``field`` is the spec
    field that names it (for the message)."""
    ref = ref.strip()
    ns, _, name = ref.rpartition("/")
    ns = ns or namespace
    if "/" in ns:
        raise SpecError(
            f'parse modelConfigRef "{ref}": reference cannot contain more than one slash'
        )
    mc = await read_reference(client, MODEL_CONFIG, ns, name, field=field)
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
