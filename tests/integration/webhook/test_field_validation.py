"""The webhook and `check` agree on duplicate fields, unknown fields and deep nesting (issue 15
item 7): ``request.options.fieldValidation`` decides like the API server (Strict error, Warn
warning, Ignore last value wins); nesting up to 10,000 levels is judged, deeper is a 400."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shared.check import cli
from shared.nesting import allow_deep_objects
from tests.integration.webhook.conftest import Webhook, admission_review
from tests.unit.check.test_field_validation import DUPLICATE, deep_sandboxagent

DUPLICATE_JSON = (
    '{"apiVersion": "kagent.dev/v1alpha2", "kind": "AgentHarness", "metadata": {"name": "dup"},'
    ' "spec": {"backend": "hermes", "backend": "openclaw", "runtime": "substrate",'
    ' "substrate": {"gatewayTokenSecretRef": {"name": "tok"}}}}'
)


def _body(obj_json: str, mode: str | None) -> bytes:
    review = admission_review({"apiVersion": "kagent.dev/v1alpha2", "kind": "AgentHarness"})
    if mode is not None:
        review["request"]["options"]["fieldValidation"] = mode
    text = json.dumps(review)
    return text.replace(
        '"object": {"apiVersion": "kagent.dev/v1alpha2", "kind": "AgentHarness"}',
        f'"object": {obj_json}',
    ).encode()


async def _validate(webhook: Webhook, body: bytes) -> tuple[int, Any]:
    allow_deep_objects()  # what the webhook's command line does; this server runs in-process
    return await webhook.post("/validate", body)


def _check(tmp_path: Path, text: str, mode: str) -> dict[str, Any]:
    import contextlib
    import io

    path = tmp_path / "x.yaml"
    path.write_text(text)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        cli.main(["-o", "json", "--field-validation", mode, str(path)])
    result: dict[str, Any] = json.loads(out.getvalue())["results"][0]
    return result


@pytest.mark.parametrize("mode", ["Strict", "Warn", "Ignore", None])
async def test_duplicate_fields_same_verdict_as_check(
    webhook: Webhook, tmp_path: Path, mode: str | None
) -> None:
    status, doc = await _validate(webhook, _body(DUPLICATE_JSON, mode))
    assert status == 200, doc
    response = doc["response"]
    expected = _check(tmp_path, DUPLICATE, mode or "Strict")
    assert response["allowed"] == expected["allowed"]
    assert response.get("warnings", []) == expected["warnings"]
    if not expected["allowed"]:
        assert [c["message"] for c in response["status"]["details"]["causes"]] == [
            v["message"] for v in expected["violations"]
        ]
        assert 'duplicate field "spec.backend"' in response["status"]["message"]


@pytest.mark.parametrize("levels", [150, 1_500, 10_000])
async def test_deep_nesting_is_judged_like_check(webhook: Webhook, levels: int) -> None:
    allow_deep_objects()
    obj = json.loads(deep_sandboxagent(levels, as_json=True))
    status, doc = await _validate(webhook, json.dumps(admission_review(obj)).encode())
    assert status == 200, doc
    assert doc["response"]["allowed"] is True


async def test_nesting_beyond_the_api_servers_limit_is_a_400(webhook: Webhook) -> None:
    allow_deep_objects()
    obj = json.loads(deep_sandboxagent(10_001, as_json=True))
    status, doc = await _validate(webhook, json.dumps(admission_review(obj)).encode())
    assert status == 400
    assert "nested deeper than 10000 levels" in doc["error"]
