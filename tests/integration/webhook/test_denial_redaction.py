"""Denials never echo the value of a secret-bearing field, only its type (issue 15 item 6), in
`check`, the webhook and the devstack API server alike."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from shared.check.cli import main as check_main
from shared.kube import errors as kerr
from shared.kube.resources import AGENT_HARNESS
from tests.integration.controller.conftest import Stack
from tests.integration.controller.conftest import stack as stack  # fixture
from tests.integration.webhook.conftest import Webhook, admission_review

CANARIES = ("31337000111222", "CANARY-list-8e1f", "CANARY-map-2b7c", "CANARY-nested-9d4a")


def bad_harness() -> dict[str, Any]:
    """Secret-bearing fields of the wrong type: integer, list, map, and a list of objects."""
    return {
        "apiVersion": "kagent.dev/v1alpha2",
        "kind": "AgentHarness",
        "metadata": {"name": "leaky", "namespace": "team-a"},
        "spec": {
            "backend": "openclaw",
            "runtime": "substrate",
            "channels": [
                {
                    "name": "tg",
                    "type": "telegram",
                    "telegram": {"botToken": {"value": [CANARIES[1]]}},
                },
                {
                    "name": "tg2",
                    "type": "telegram",
                    "telegram": {"botToken": {"value": {"k": CANARIES[2]}}},
                },
                {
                    "name": "ops",
                    "type": "slack",
                    "slack": [{"appToken": {"value": CANARIES[3]}}],
                },
            ],
            "substrate": {"gatewayToken": int(CANARIES[0])},
        },
    }


def _no_canary(text: str) -> None:
    assert text, "no denial text"
    leaked = [c for c in CANARIES if c in text]
    assert leaked == [], text


def test_check_names_types_not_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "h.json"
    path.write_text(json.dumps(bad_harness()))
    outputs = {}
    for output in ("json", "sarif", "junit", "text"):
        assert check_main(["-o", output, str(path)]) == 1
        outputs[output] = capsys.readouterr().out
        _no_canary(outputs[output])
    assert 'spec.substrate.gatewayToken: Invalid value: "integer"' in outputs["text"]


async def test_webhook_names_types_not_values(webhook: Webhook) -> None:
    answer = await webhook.review("/validate", admission_review(bad_harness()))
    assert answer["allowed"] is False
    message = answer["status"]["message"]
    _no_canary(json.dumps(answer))
    assert '.botToken.value: Invalid value: "array"' in message


async def test_devstack_apiserver_names_types_not_values(stack: Stack) -> None:
    with pytest.raises(kerr.Invalid) as caught:
        await stack.kube.create(AGENT_HARNESS, copy.deepcopy(bad_harness()))
    _no_canary(str(caught.value))
    assert '.botToken.value: Invalid value: "object"' in str(caught.value)
