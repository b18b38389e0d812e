"""openclaw.json, startup script and env: the reference vectors (spec §5.2-5.5), byte-exact."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from controller.harness import claw
from controller.harness.claw import Channel
from controller.substrate.env import sanitize_env
from controller.substrate.model import ModelSettings

VECTOR_A = (
    '{"gateway":{"mode":"local","bind":"lan","auth":{"mode":"token","token":"test-token"},"port":80,'
    '"controlUi":{"basePath":"/api/agentharnesses/kagent/claw/gateway","allowedOrigins":["*"],'
    '"dangerouslyDisableDeviceAuth":true}},"agents":{"defaults":{"model":{"primary":""}}},'
    '"secrets":{"providers":null}}'
)
VECTOR_B = (
    '{"gateway":{"mode":"local","bind":"lan","auth":{"mode":"token","token":"some-token"},"port":80,'
    '"controlUi":{"basePath":"/api/agentharnesses/kagent/claw/gateway","allowedOrigins":["*"],'
    '"dangerouslyDisableDeviceAuth":true}},"agents":{"defaults":{"model":{"primary":"openai/gpt-4o"}}},'
    '"channels":{"telegram":{"enabled":true,"accounts":{"tg1":{"name":"tg1","enabled":true,"botToken":'
    '{"source":"env","provider":"default","id":"KAGENT_SB_CH_TG1_TELEGRAM_BOT"},"dmPolicy":"allowlist",'
    '"allowFrom":["123","456"]}},"defaultAccount":"tg1"},"slack":{"enabled":true,"mode":"socket",'
    '"webhookPath":"/slack/events","userTokenReadOnly":true,"groupPolicy":"open","accounts":{"ops":'
    '{"name":"ops","enabled":true,"mode":"socket","botToken":{"source":"env","provider":"default",'
    '"id":"KAGENT_SB_CH_OPS_SLACK_BOT"},"appToken":{"source":"env","provider":"default",'
    '"id":"KAGENT_SB_CH_OPS_SLACK_APP"},"userTokenReadOnly":true,"groupPolicy":"open","capabilities":'
    '{"interactiveReplies":true}}},"defaultAccount":"ops"}},"secrets":{"providers":{"default":'
    '{"source":"env","allowlist":["KAGENT_SB_CH_OPS_SLACK_APP","KAGENT_SB_CH_OPS_SLACK_BOT",'
    '"KAGENT_SB_CH_TG1_TELEGRAM_BOT","OPENAI_API_KEY"]}},"defaults":{"env":"default"}}}'
)
OPENAI = ModelSettings(
    provider="OpenAI", model="gpt-4o", api_key_secret="openai", api_key_secret_key="key"
)
CHANNELS = (
    Channel(name="tg1", type="telegram", allow_from=("123", " 456 ")),
    Channel(name="ops", type="slack"),
)


def test_vector_a_gateway_only() -> None:
    assert claw.go_json(claw.openclaw_config("kagent", "claw", "test-token", None)) == VECTOR_A


def test_vector_a_startup_script_bytes() -> None:
    script = claw.startup_script(VECTOR_A, inject_token=False)
    assert len(script.encode()) == 543
    assert (
        hashlib.sha256(script.encode()).hexdigest()
        == "65c44038d48e40e169757a4c32d0da607a899e12e644a005786d9b8bd185dbba"
    )


def test_vector_b_with_model_and_channels() -> None:
    assert (
        claw.go_json(claw.openclaw_config("kagent", "claw", "some-token", OPENAI, CHANNELS))
        == VECTOR_B
    )


def test_our_template_never_contains_the_token() -> None:
    config = claw.go_json(claw.openclaw_config("kagent", "claw", "", OPENAI, CHANNELS))
    assert '"auth":{"mode":"token"}' in config
    script = claw.startup_script(config, inject_token=True)
    assert "process.env.KAGENT_GATEWAY_TOKEN" in script and "'" not in script.splitlines()[3][9:-1]
    decoded = base64.b64decode(script.splitlines()[2].split("'")[1]).decode()
    assert json.loads(decoded)["gateway"]["auth"] == {"mode": "token"}


def test_base_url_adds_models_block() -> None:
    model = ModelSettings("OpenAI", "gpt-4o", "openai", "key", base_url=" https://api.example/v1 ")
    doc = claw.openclaw_config("kagent", "claw", "", model)
    assert doc["models"]["providers"]["openai"]["baseUrl"] == "https://api.example/v1"
    assert doc["models"]["providers"]["openai"]["apiKey"] == claw.env_ref("OPENAI_API_KEY")
    assert "models" not in claw.openclaw_config("kagent", "claw", "", OPENAI)


def test_slack_group_policy_and_interactive_default() -> None:
    doc = claw.openclaw_config(
        "kagent",
        "claw",
        "",
        OPENAI,
        (
            Channel("a", "slack", channel_access="allowlist", allowlist_channels=("C1", " ")),
            Channel("b", "slack"),
        ),
    )
    slack = doc["channels"]["slack"]
    assert slack["groupPolicy"] == "allowlist" and slack["accounts"]["b"]["groupPolicy"] == "open"
    assert slack["accounts"]["a"]["dm"] == {"groupEnabled": True, "groupChannels": ["C1"]}
    assert slack["accounts"]["b"]["capabilities"] == {"interactiveReplies": True}


def test_telegram_without_allowlist_is_pairing() -> None:
    doc = claw.openclaw_config("kagent", "claw", "", OPENAI, (Channel("tg", "telegram"),))
    account = doc["channels"]["telegram"]["accounts"]["tg"]
    assert account["dmPolicy"] == "pairing" and "allowFrom" not in account


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (
            ModelSettings("OpenAI", "x", "s", "k", api_key_passthrough=True),
            "APIKeyPassthrough is not supported",
        ),
        (ModelSettings("OpenAI", "x", "", "k"), "requires apiKeySecret and apiKeySecretKey"),
        (ModelSettings("SAPAICore", "x", "s", "k"), "SAPAICore is not supported"),
        (ModelSettings("XAI", "x", "s", "k"), 'model provider "XAI" is not supported'),
        (ModelSettings("OpenAI", "  ", "s", "k"), "ModelConfig.spec.model is required"),
    ],
)
def test_model_errors(model: ModelSettings, message: str) -> None:
    with pytest.raises(claw.BootstrapError, match=message):
        claw.openclaw_config("kagent", "claw", "", model)


def test_go_escaping() -> None:
    assert claw.go_json({"a": "<b>&\u2028é"}) == '{"a":"\\u003cb\\u003e\\u0026\\u2028é"}'


def test_sanitize_env_keeps_literals_and_secret_refs_first_wins() -> None:
    entries = [
        {"name": "A", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}},
        {"name": "A", "value": "kept"},
        {"name": "B", "value": ""},
        {"name": "B", "value": "second"},
        {"name": "C", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k", "optional": True}}},
        {"name": "", "value": "x"},
    ]
    assert sanitize_env(entries) == [
        {"name": "A", "value": "kept"},
        {"name": "B", "value": ""},
        {"name": "C", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k", "optional": True}}},
    ]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_secret_held_allowlist_is_injected_at_start_not_written_into_the_script(
    tmp_path: Path,
) -> None:
    """Issue 15 item 2: the Secret's value reaches openclaw.json only at run time, from env."""
    var = claw.allow_from_env_var("tg1")
    channels = (Channel(name="tg1", type="telegram", allow_from_env=var), CHANNELS[1])
    config = claw.go_json(claw.openclaw_config("kagent", "claw", "", OPENAI, channels))
    script = claw.startup_script(config, inject_token=True, channels=channels)
    assert '"dmPolicy":"pairing"' in config  # until the script knows the list
    runnable = script.replace("openclaw gateway run --port 80 --allow-unconfigured", "true")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "KAGENT_GATEWAY_TOKEN": "gw-secret",
        var: "111, 222;333\n",
    }
    subprocess.run(["/bin/sh", "-c", runnable], env=env, check=True, timeout=30)
    doc = json.loads((tmp_path / ".openclaw" / "openclaw.json").read_text())
    account = doc["channels"]["telegram"]["accounts"]["tg1"]
    assert account["allowFrom"] == ["111", "222", "333"]
    assert account["dmPolicy"] == "allowlist"
    assert doc["gateway"]["auth"]["token"] == "gw-secret"
    env[var] = ""
    subprocess.run(["/bin/sh", "-c", runnable], env=env, check=True, timeout=30)
    doc = json.loads((tmp_path / ".openclaw" / "openclaw.json").read_text())
    assert doc["channels"]["telegram"]["accounts"]["tg1"]["dmPolicy"] == "pairing"
