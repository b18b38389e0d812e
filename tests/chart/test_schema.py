"""values.schema.json rejects unknown and mistyped values; templates reject bad combinations."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.chart.render import CHART, NAMESPACE, helm, template_run


def _walk(schema: dict[str, Any], path: str = "") -> list[str]:
    """Paths of object schemas that do not set additionalProperties."""
    missing = []
    if schema.get("type") == "object" and "properties" in schema:
        if schema.get("additionalProperties") is not False:
            missing.append(path or "<root>")
        for key, sub in schema["properties"].items():
            missing += _walk(sub, f"{path}.{key}")
    return missing


def test_every_object_in_the_schema_is_closed() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert _walk(schema) == []


BAD: list[tuple[dict[str, Any], str]] = [
    ({"unknownTop": 1}, "Additional property unknownTop is not allowed"),
    ({"webhook": {"replica": 2}}, "Additional property replica is not allowed"),
    (
        {"controller": {"gateway": {"service": {"typo": 1}}}},
        "Additional property typo is not allowed",
    ),
    ({"webhook": {"replicas": "two"}}, "webhook.replicas: Invalid type. Expected: integer"),
    ({"rbac": {"create": "yes"}}, "rbac.create: Invalid type. Expected: boolean"),
    ({"rbac": {"namespaces": "team-a"}}, "rbac.namespaces: Invalid type. Expected: array"),
    ({"rbac": {"namespaces": ["Team_A"]}}, "rbac.namespaces.0: Does not match pattern"),
    ({"rbac": {"namespaces": ["a", "a"]}}, "rbac.namespaces: array items[0,1] must be unique"),
    ({"image": {"digest": "sha256:abc"}}, "image.digest: Does not match pattern"),
    (
        {"webhook": {"failurePolicy": "Maybe"}},
        "webhook.failurePolicy: webhook.failurePolicy must be one of",
    ),
    (
        {"webhook": {"timeoutSeconds": 31}},
        "webhook.timeoutSeconds: Must be less than or equal to 30",
    ),
    (
        {"ateApi": {"endpoint": ""}},
        "ateApi.endpoint: String length must be greater than or equal to 1",
    ),
    ({"ateApi": {"token": {"expirationSeconds": 60}}}, "Must be greater than or equal to 600"),
    ({"ateApi": {"token": {"path": "token"}}}, "ateApi.token.path: Does not match pattern"),
    ({"controller": {"extraArgs": ["resync=1"]}}, "controller.extraArgs.0: Does not match pattern"),
    (
        {"controller": {"sandboxRuntimeImage": "adk:latest"}},
        "controller.sandboxRuntimeImage: Does not match pattern",
    ),
    (
        {"controller": {"logLevel": "TRACE"}},
        "controller.logLevel: controller.logLevel must be one of",
    ),
    ({"webhook": {"crdSource": "url"}}, "webhook.crdSource: webhook.crdSource must be one of"),
]


@pytest.mark.parametrize(("values", "message"), BAD, ids=[m.split(":")[0] for _, m in BAD])
def test_schema_rejects(values: dict[str, Any], message: str) -> None:
    run = template_run(values)
    assert run.returncode != 0
    assert "values don't meet the specifications of the schema" in run.stderr
    assert message in run.stderr, run.stderr


def test_lint_rejects_bad_values_too() -> None:
    run = helm(
        "lint", "--strict", str(CHART), "--namespace", NAMESPACE, values={"webhook": {"x": 1}}
    )
    assert run.returncode != 0
    assert "Additional property x is not allowed" in run.stdout + run.stderr


COMBINATIONS: list[tuple[dict[str, Any], str]] = [
    (
        {"webhook": {"replicas": 2}},
        "webhook.replicas > 1 needs certManager.enabled=true",
    ),
    (
        {"workerPool": {"create": True}},
        "workerPool.ateomImage is required when workerPool.create=true",
    ),
    (
        {"webhook": {"requestTimeout": 10}},
        "webhook.requestTimeout (10) must be below webhook.timeoutSeconds (10)",
    ),
    (
        {"controller": {"replicas": 2, "leaderElection": {"enabled": False, "id": ""}}},
        "controller.replicas > 1 needs controller.leaderElection.enabled=true",
    ),
    (
        {
            "workerPool": {"create": True, "ateomImage": "x", "name": "a"},
            "defaultWorkerPool": {"name": "b"},
        },
        "defaultWorkerPool.name (b) and workerPool.name (a) differ",
    ),
]


@pytest.mark.parametrize(("values", "message"), COMBINATIONS, ids=[m[:30] for _, m in COMBINATIONS])
def test_templates_reject_bad_combinations(values: dict[str, Any], message: str) -> None:
    run = template_run(values)
    assert run.returncode != 0
    assert message in run.stderr, run.stderr


def test_the_runtime_image_is_asked_for() -> None:
    """No invented default: without controller.sandboxRuntimeImage the chart does not render."""
    run = template_run({}, required=False)
    assert run.returncode != 0
    assert "controller.sandboxRuntimeImage is required" in run.stderr, run.stderr
    assert "--sandbox-runtime-image" in run.stderr
