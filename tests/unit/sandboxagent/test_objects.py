"""Pure SandboxAgent objects: config.json / agent card determinism, template, env, conditions."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from controller.sandboxagent import status as st
from controller.sandboxagent.config import (
    Model,
    agent_card,
    app_name,
    config_hash,
    secret_files,
)
from controller.sandboxagent.template import (
    MISSING_CONTAINER,
    RUNTIME_IMAGE_MISSING,
    AgentCallbacks,
    MissingAgentContainer,
    actor_env,
    agent_container,
    choose_image,
    config_secret,
    desired_template,
    workload_pod,
)
from controller.substrate.defaults import SubstrateDefaults
from controller.substrate.template import TemplateError
from shared.conditions import Condition

MODEL = Model("Anthropic", "claude-sonnet-4-5", "llm-key", "key")
CALLBACKS = AgentCallbacks(
    kagent_url="http://kagent-controller.kagent:8083",
    otel_env=(
        ("OTEL_SERVICE_NAME", "agents"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel-collector:4317"),
        ("OTEL_RESOURCE_ATTRIBUTES", "  "),
    ),
)
IMAGE = "cr.kagent.dev/kagent-dev/kagent/golang-adk@sha256:" + "ab" * 32


def agent(**declarative: Any) -> dict[str, Any]:
    decl = {"modelConfig": "m", "systemMessage": "hi", "runtime": "go"}
    decl.update(declarative)
    return {
        "metadata": {"name": "my-agent", "namespace": "kagent", "uid": "u-1"},
        "spec": {"platform": "substrate", "description": "d", "declarative": decl},
    }


def test_config_json_is_deterministic_and_key_order_free() -> None:
    a = agent(a2aConfig={"skills": [{"id": "s", "name": "S"}]}, stream=True)
    b = copy.deepcopy(a)
    b["spec"]["declarative"] = dict(reversed(list(a["spec"]["declarative"].items())))
    assert secret_files(a, MODEL, None) == secret_files(b, MODEL, None)
    config = json.loads(secret_files(a, MODEL, None)["config.json"])
    assert config["model"]["apiKeyEnv"] == "ANTHROPIC_API_KEY"
    assert config["appName"] == "kagent__NS__my_agent"
    assert "sk-" not in secret_files(a, MODEL, None)["config.json"]


def test_config_json_drops_pod_settings_and_resolves_system_message() -> None:
    a = agent(
        deployment={"env": [{"name": "X", "value": "1"}]}, systemMessageFrom={"type": "ConfigMap"}
    )
    del a["spec"]["declarative"]["systemMessage"]
    config = json.loads(secret_files(a, None, "from the ConfigMap")["config.json"])
    assert "deployment" not in config["declarative"]
    assert "systemMessageFrom" not in config["declarative"]
    assert config["declarative"]["systemMessage"] == "from the ConfigMap"
    assert "model" not in config


def test_agent_card() -> None:
    card = agent_card(agent(a2aConfig={"skills": [{"id": "s"}]}))
    assert card["name"] == "my_agent"
    assert card["url"] == "http://my-agent.kagent:8080"
    assert card["capabilities"] == {"streaming": True, "pushNotifications": False}
    assert card["defaultInputModes"] == card["defaultOutputModes"] == ["text"]
    assert card["skills"] == [{"id": "s"}]
    assert agent_card(agent())["skills"] == []
    assert app_name("team-a", "k8s-agent") == "team_a__NS__k8s_agent"


def test_srt_settings_only_with_code_execution() -> None:
    assert "srt-settings.json" not in secret_files(agent(), MODEL, None)
    a = agent(executeCodeBlocks=True)
    a["spec"]["sandbox"] = {"network": {"allowedDomains": ["pypi.org"]}}
    srt = json.loads(secret_files(a, MODEL, None)["srt-settings.json"])
    assert srt == {
        "filesystem": {"allowWrite": [".", "/tmp"], "denyRead": [], "denyWrite": []},
        "network": {"allowedDomains": ["pypi.org"], "deniedDomains": []},
    }


def test_env_contract_order_first_wins_and_sanitised() -> None:
    a = agent(
        deployment={
            "env": [
                {"name": "KAGENT_NAME", "value": "override-ignored"},
                {"name": "LOG", "value": "debug"},
                {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
                {"name": "EMPTY"},
            ]
        }
    )
    env = actor_env(a, MODEL, has_srt=True, config_hash="0123abcd", callbacks=CALLBACKS)
    assert [e["name"] for e in env] == [
        "KAGENT_NAME",
        "KAGENT_NAMESPACE",
        "KAGENT_CONFIG_JSON",
        "KAGENT_AGENT_CARD_JSON",
        "KAGENT_SRT_SETTINGS_JSON",
        "KAGENT_CONFIG_HASH",
        "LOG",
        "TOKEN",
        "ANTHROPIC_API_KEY",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_SERVICE_NAME",
        "KAGENT_URL",
        "KAGENT_SRT_SETTINGS_PATH",
    ]
    values = {e["name"]: e.get("value") for e in env}
    assert values["KAGENT_CONFIG_HASH"] == "0123abcd"
    assert values["KAGENT_URL"] == "http://kagent-controller.kagent:8083"
    assert values["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4317"
    assert env[0] == {"name": "KAGENT_NAME", "value": "my-agent"}
    assert env[4]["valueFrom"]["secretKeyRef"] == {
        "name": "my-agent",
        "key": "srt-settings.json",
        "optional": True,
    }


def test_template_shape() -> None:
    a = agent()
    t = desired_template(
        a,
        pool=("kagent", "pool"),
        container=agent_container(
            workload_pod(
                a,
                image=choose_image(IMAGE),
                env=actor_env(a, MODEL, False, config_hash="h", callbacks=AgentCallbacks()),
            )
        ),
        defaults=SubstrateDefaults(),
    )
    assert t["metadata"]["name"] == "asr-my-agent"
    assert t["metadata"]["labels"] == {
        "app.kubernetes.io/managed-by": "kagent",
        "kagent.dev/sandbox-agent": "my-agent",
    }
    assert t["metadata"]["ownerReferences"][0]["uid"] == "u-1"
    (c,) = t["spec"]["containers"]
    assert c["name"] == "kagent" and c["image"] == IMAGE
    assert c["command"] == ["/app", "--host", "0.0.0.0", "--port", "80"]
    assert t["spec"]["snapshotsConfig"] == {"location": "gs://ate-snapshots/kagent/my-agent"}
    assert set(t["spec"]) == {
        "pauseImage",
        "runsc",
        "containers",
        "workerPoolRef",
        "snapshotsConfig",
    }
    secret = config_secret(a, {"config.json": "{}"})
    assert secret["metadata"]["name"] == "my-agent"
    assert secret["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "kagent"


def test_image_choice() -> None:
    assert choose_image(f"  {IMAGE} ") == IMAGE
    with pytest.raises(TemplateError, match=r"must be pinned with a digest \(@sha256:...\)"):
        choose_image("cr.kagent.dev/x/golang-adk:latest")
    assert choose_image(IMAGE, "registry.local:5000/").startswith(
        "registry.local:5000/kagent-dev/kagent/golang-adk@sha256:"
    )


def test_no_invented_default_image() -> None:
    """Without a configured image the error names the flag, its env var and the Helm value."""
    for configured in ("", "  "):
        with pytest.raises(TemplateError) as err:
            choose_image(configured, "registry.local:5000")
        assert str(err.value) == RUNTIME_IMAGE_MISSING
    for name in (
        "--sandbox-runtime-image",
        "KAGENT_SUBSTRATE_CONTROLLER_SANDBOX_RUNTIME_IMAGE",
        "controller.sandboxRuntimeImage",
    ):
        assert name in RUNTIME_IMAGE_MISSING


def test_conditions_table() -> None:
    conds: list[Condition] = []
    spec = {"declarative": {"executeCodeBlocks": True}}
    assert st.apply(conds, [st.accepted(), st.unsupported(spec), st.template_not_ready()], 3, "t")
    assert [(c["type"], c["status"], c["reason"]) for c in conds] == [
        ("Accepted", "True", "Reconciled"),
        ("UnsupportedFeatures", "True", "UnsupportedFeatures"),
        ("Ready", "False", "ActorTemplateNotReady"),
    ]
    assert all(c["observedGeneration"] == 3 for c in conds)
    assert "code execution (executeCodeBlocks is deprecated)" in conds[1]["message"]
    assert not st.apply(
        conds, [st.accepted(), st.unsupported(spec), st.template_not_ready()], 3, "t"
    )
    assert st.apply(conds, [st.accepted(), st.unsupported({}), st.workload_ready()], 3, "t2")
    assert [(c["type"], c["status"], c["reason"]) for c in conds] == [
        ("Accepted", "True", "Reconciled"),
        ("Ready", "True", "WorkloadReady"),
    ]
    failed = st.reconcile_failed("boom")
    assert [(c.type, c.status, c.reason) for c in failed] == [
        ("Accepted", "False", "ReconcileFailed"),
        ("Ready", "False", "ReconcileFailed"),
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"type": "BYO"}, "BYO agents are not supported when spec.platform is substrate"),
        (
            {"declarative": {}, "skills": {"refs": ["x"]}},
            "spec.skills is not supported when spec.platform is substrate",
        ),
        (
            {"declarative": {"runtime": "python"}},
            'spec.declarative.runtime must be "go" when spec.platform is substrate',
        ),
        ({"declarative": {"runtime": "go"}}, ""),
        ({"declarative": {}}, ""),
    ],
)
def test_validation_order(spec: dict[str, Any], message: str) -> None:
    assert st.validation_error(spec) == message


def _template(a: dict[str, Any]) -> dict[str, Any]:
    files = secret_files(a, MODEL, None)
    env = actor_env(a, MODEL, False, config_hash=config_hash(files), callbacks=CALLBACKS)
    return desired_template(
        a,
        pool=("kagent", "pool"),
        container=agent_container(workload_pod(a, image=IMAGE, env=env)),
        defaults=SubstrateDefaults(),
    )


def test_edited_config_changes_the_template() -> None:
    """Config drift (reference §9 #10): any config edit changes the template spec."""
    before = _template(agent())
    assert _template(agent()) == before  # unchanged agent: byte-stable template
    for edit in ({"systemMessage": "be verbose"}, {"stream": True}, {"modelConfig": "other"}):
        after = _template(agent(**edit))
        assert after["spec"] != before["spec"], edit
    other_model = Model("OpenAI", "gpt-4o", "llm-key", "key")
    a = agent()
    files = secret_files(a, other_model, None)
    assert config_hash(files) != config_hash(secret_files(a, MODEL, None))
    assert config_hash(files) == config_hash(dict(reversed(list(files.items()))))


def test_pod_template_without_the_kagent_container_is_refused() -> None:
    for pod in ({"containers": []}, {}, {"containers": [{"name": "sidecar", "image": "x"}]}):
        with pytest.raises(MissingAgentContainer) as err:
            agent_container(pod)
        assert str(err.value) == MISSING_CONTAINER
        assert "pod template is missing the kagent container" in str(err.value)
    a = agent(deployment={"extraContainers": [{"name": "proxy", "image": "p", "ports": []}]})
    pod = workload_pod(a, image=IMAGE, env=[])
    assert [c["name"] for c in pod["containers"]] == ["kagent", "proxy"]
    assert agent_container({"containers": [*reversed(pod["containers"])]}) == {
        "name": "kagent",
        "image": IMAGE,
        "command": ["/app", "--host", "0.0.0.0", "--port", "80"],
        "env": [],
    }
