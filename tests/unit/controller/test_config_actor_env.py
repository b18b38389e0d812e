"""Controller settings that reach SandboxAgent actors: KAGENT_URL, OTEL_*, the runtime image."""

from __future__ import annotations

import pytest

from controller.config import parse_config
from shared.errors import InputError


def test_kagent_url_defaults_like_the_reference() -> None:
    assert parse_config([], {}).kagent_url == "http://kagent-controller.kagent:8083"
    env = {"KAGENT_CONTROLLER_NAME": "kc", "KAGENT_NAMESPACE": "platform"}
    assert parse_config([], env).kagent_url == "http://kc.platform:8083"


def test_kagent_url_flag_and_env() -> None:
    assert (
        parse_config([], {"KAGENT_SUBSTRATE_CONTROLLER_KAGENT_URL": "http://k:1"}).kagent_url
        == "http://k:1"
    )
    assert parse_config(
        ["--kagent-url", "http://f:2"], {"KAGENT_SUBSTRATE_CONTROLLER_KAGENT_URL": "x"}
    ).kagent_url == ("http://f:2")


def test_otel_settings_are_the_controllers_own_sorted_non_empty() -> None:
    env = {
        "OTEL_SERVICE_NAME": "kagent-agents",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel:4317",
        "OTEL_TRACES_SAMPLER": " ",
        "NOT_OTEL": "x",
    }
    assert parse_config([], env).actor_otel_env == (
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel:4317"),
        ("OTEL_SERVICE_NAME", "kagent-agents"),
    )


def test_runtime_image_has_no_default_and_must_be_pinned() -> None:
    assert parse_config([], {}).sandbox_runtime_image == ""
    image = "r.example/golang-adk@sha256:" + "ab" * 32
    assert (
        parse_config(
            [], {"KAGENT_SUBSTRATE_CONTROLLER_SANDBOX_RUNTIME_IMAGE": image}
        ).sandbox_runtime_image
        == image
    )
    with pytest.raises(InputError, match="--sandbox-runtime-image"):
        parse_config(["--sandbox-runtime-image", "r.example/golang-adk:latest"], {})
