"""Naming vectors: spec/agentharness.md §3, spec/sandboxagent_helm.md §3, SPEC §5 fixes."""

from __future__ import annotations

import pytest

from shared import naming as n


def test_actor_host_and_router_target_vectors() -> None:
    assert (
        n.actor_host("ahr-kagent-my-claw")
        == "ahr-kagent-my-claw.actors.resources.substrate.ate.dev"
    )
    assert n.gateway_router_target("", "ahr-kagent-my-claw") == (
        "http://atenet-router.ate-system.svc:80",
        "ahr-kagent-my-claw.actors.resources.substrate.ate.dev",
    )
    url, host = n.gateway_router_target("http://atenet-router.custom.svc:8080", "actor-1")
    assert (
        url == "http://atenet-router.custom.svc:8080"
        and host == "actor-1.actors.resources.substrate.ate.dev"
    )
    with pytest.raises(n.NamingError, match="actor id is required"):
        n.gateway_router_target("", "")
    with pytest.raises(n.NamingError, match="must include a scheme"):
        n.gateway_router_target("atenet-router:80", "a")


def test_harness_actor_id_reference_form_when_valid() -> None:
    assert n.harness_actor_id("kagent", "my-claw") == "ahr-kagent-my-claw"


@pytest.mark.parametrize(
    ("ns", "name"),
    [("kagent", "my.claw"), ("kagent", "a" * 60), ("ns", "x" * 55 + "-yyyy")],
)
def test_harness_actor_id_is_hashed_instead_of_truncated(ns: str, name: str) -> None:
    got = n.harness_actor_id(ns, name)
    assert got == n.harness_actor_id_hashed(ns, name)
    assert len(got) == 28 and n.is_dns_label(got) and got.startswith("ahr-")


def test_concatenation_ambiguity_is_resolved_by_the_hashed_form() -> None:
    assert n.harness_actor_id("a-b", "c") == n.harness_actor_id("a", "b-c") == "ahr-a-b-c"
    assert n.harness_actor_id_hashed("a-b", "c") != n.harness_actor_id_hashed("a", "b-c")


def test_template_names_never_collide_across_kinds() -> None:
    assert n.harness_template_name("kagent", "my-claw") == "my-claw"
    assert n.sandbox_template_name("kagent", "my-claw") == "asr-my-claw"
    long = "b" * 70
    assert n.harness_template_name("ns", long) == n.hashed_id("ahr", "ns", long)
    assert n.harness_template_name("ns", "b" * 70) != n.harness_template_name("ns", "b" * 71)


@pytest.mark.parametrize(
    ("ns", "name", "sid", "expected"),
    [
        ("kagent", "demo", "sess-1", "asr-kagent-demo-sess-1"),
        ("kagent", "my-agent", "ctx_ABC_123", "asr-kagent-my-agent-ctx-abc-123"),
        ("kagent", "my-agent", "  Ctx-1  ", "asr-kagent-my-agent-ctx-1"),
        (
            "kagent",
            "my-agent",
            "3f2b8c9e-7d41-4a0b-9c1e-5f6a7b8c9d0e",
            "asr-kagent-my-agent-3f2b8c9e-7d41-4a0b-9c1e-5f6a7b8c9d0e",
        ),
        (
            "kagent",
            "my-long-agent-name-here",
            "3f2b8c9e-7d41-4a0b-9c1e-5f6a7b8c9d0e",
            "asr-0771f126a3cafe73590b0c2f",
        ),
        ("kagent", "demo", "hello world", "asr-90484ce60e83e6be1ebda486"),
        ("kagent", "demo", "sess.1", "asr-ba15766c998dfb66b82e72ae"),
        ("kagent", "demo", "-x", "asr-kagent-demo--x"),
        ("kagent", "demo", "Hello World ", "asr-e07c39e54623039846cf9c9c"),
        ("kagent", "demo", "Hello World", "asr-7d7f0aa8569c82c89129bd4a"),
        ("kagent", "x" * 51 + "-tail", "s1", "asr-4c9311622934c36793e0df75"),
    ],
)
def test_session_actor_id_vectors(ns: str, name: str, sid: str, expected: str) -> None:
    assert n.sandbox_session_actor_id(ns, name, sid) == expected


@pytest.mark.parametrize(
    ("ns", "name", "expected"),
    [("kagent", "demo", "asr-kagent-demo"), ("team-a", "k8s-agent", "asr-team-a-k8s-agent")],
)
def test_sandbox_agent_prefix(ns: str, name: str, expected: str) -> None:
    assert n.sandbox_agent_prefix(ns, name) == expected


def test_channel_env_vectors() -> None:
    assert n.channel_env_var("tg1", "TELEGRAM_BOT") == "KAGENT_SB_CH_TG1_TELEGRAM_BOT"
    assert n.channel_env_var("my-slack", "SLACK_APP") == "KAGENT_SB_CH_MY_SLACK_SLACK_APP"
    assert [n.channel_env_segment(s) for s in ("--", "Ops.Team", "é")] == ["CH", "OPS_TEAM", "CH"]
    assert n.channel_env_var("tg-1", "TELEGRAM_BOT") == n.channel_env_var("tg_1", "TELEGRAM_BOT")


def test_api_key_env_and_misc() -> None:
    assert [n.api_key_env_var(p) for p in ("OpenAI", "AzureOpenAI", "GeminiVertexAI")] == [
        "OPENAI_API_KEY",
        "AZUREOPENAI_API_KEY",
        "GEMINIVERTEXAI_API_KEY",
    ]
    assert n.default_snapshots_location("kagent", "claw") == "gs://ate-snapshots/kagent/claw"
    assert n.name_from_labels(None, n.HARNESS_LABEL) == ""
    assert n.name_from_labels({n.HARNESS_LABEL: " claw "}, n.HARNESS_LABEL) == "claw"
    assert n.control_ui_base_path("kagent", "claw") == "/api/agentharnesses/kagent/claw/gateway"


def test_label_values_over_63_are_hashed() -> None:
    assert n.label_value("claw", "ahr", "ns") == "claw"
    long = "c" * 64
    assert n.label_value(long, "ahr", "ns") == n.hashed_id("ahr", "ns", long)


def test_template_names_of_the_two_kinds_never_meet() -> None:
    """Issue 15 item 3: AgentHarness ``asr-x`` and SandboxAgent ``x`` shared template asr-x."""
    assert n.harness_template_name("ns", "asr-x") != n.sandbox_template_name("ns", "x")
    assert n.harness_template_name("ns", "asr-x") == n.hashed_id("ahr", "ns", "asr-x")
    # a name shaped like another object's hashed name is never used as given
    victim = n.harness_template_name("ns", "v" * 70)
    assert n.harness_template_name("ns", victim) != victim
    sa_victim = n.sandbox_template_name("ns", "v" * 70)
    assert n.sandbox_template_name("ns", sa_victim[4:]) != sa_victim
    names = {
        *(n.harness_template_name("ns", x) for x in ("x", "asr-x", "ahr-x", victim, "v" * 70)),
        *(n.sandbox_template_name("ns", x) for x in ("x", "asr-x", sa_victim[4:], "v" * 70)),
    }
    assert len(names) == 9
