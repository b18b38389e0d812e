"""Bad input, odd operations, health/metrics, and secrets that must never leak."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from typing import Any

import aiohttp
import pytest

from tests.integration.webhook.conftest import Webhook, admission_review

CANARY = "canary-7f3e9b2c41d84a6e"


def harness(name: str = "claw", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "backend": "openclaw",
        "runtime": "substrate",
        "substrate": {"gatewayTokenSecretRef": {"name": "claw-gateway"}},
    }
    body.update(spec)
    return {
        "apiVersion": "kagent.dev/v1alpha2",
        "kind": "AgentHarness",
        "metadata": {"name": name, "namespace": "team-a"},
        "spec": body,
    }


def counter(text: str, kind: str, operation: str, allowed: str) -> float:
    pattern = (
        r"^kagent_substrate_admission_requests_total\{"
        + rf'allowed="{allowed}",kind="{kind}",operation="{operation}"'
        + r"\} ([0-9.e+]+)$"
    )
    match = re.search(pattern, text, re.M)
    return float(match.group(1)) if match else 0.0


async def test_allowed_create_pins_snapshots(webhook: Webhook) -> None:
    review = admission_review(harness())
    resp = await webhook.review("/validate", review)
    assert resp == {"uid": review["request"]["uid"], "allowed": True}
    mutated = await webhook.review("/mutate", admission_review(harness()))
    ops = json.loads(base64.b64decode(mutated["patch"]))
    assert ops == [
        {
            "op": "add",
            "path": "/spec/substrate/snapshotsConfig",
            "value": {"location": "gs://ate-snapshots/team-a/claw"},
        }
    ]


async def test_denial_lists_every_violation(webhook: Webhook) -> None:
    obj = harness(backend="hermes")
    obj["spec"]["substrate"]["workloadImage"] = "repo/image:latest"
    resp = await webhook.review("/validate", admission_review(obj))
    status = resp["status"]
    assert resp["allowed"] is False
    assert status["code"] == 422 and status["reason"] == "Invalid"
    assert status["message"].startswith('AgentHarness.kagent.dev "claw" is invalid: [')
    assert len(status["details"]["causes"]) >= 2
    assert {c["field"] for c in status["details"]["causes"]} >= {"spec.substrate.workloadImage"}


async def test_update_transition_rule(webhook: Webhook) -> None:
    old, new = harness(), harness(backend="nemoclaw")
    review = admission_review(new, old=old, operation="UPDATE")
    resp = await webhook.review("/validate", review)
    assert resp["allowed"] is False
    assert "spec.backend is immutable" in resp["status"]["message"]
    same = await webhook.review(
        "/validate", admission_review(harness(), old=old, operation="UPDATE")
    )
    assert same["allowed"] is True
    # The same change as a CREATE is not a transition: allowed.
    assert (await webhook.review("/validate", admission_review(new)))["allowed"] is True


@pytest.mark.parametrize("operation", ["DELETE", "CONNECT"])
async def test_delete_and_connect_allowed_without_work(webhook: Webhook, operation: str) -> None:
    bad = harness(backend="hermes")
    review = admission_review(None, old=bad, operation=operation)
    resp = await webhook.review("/validate", review)
    assert resp == {"uid": review["request"]["uid"], "allowed": True}
    assert "patch" not in await webhook.review(
        "/mutate", admission_review(None, old=bad, operation=operation)
    )


async def test_unknown_kind_allowed_with_warning(webhook: Webhook) -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {}}
    resp = await webhook.review("/validate", admission_review(cm))
    assert resp["allowed"] is True
    assert any("not governed" in w for w in resp["warnings"])
    assert "patch" not in await webhook.review("/mutate", admission_review(cm))


async def test_dry_run_is_answered_the_same(webhook: Webhook) -> None:
    resp = await webhook.review("/validate", admission_review(harness(), dry_run=True))
    assert resp["allowed"] is True


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "malformed JSON"),
        (b"", "malformed JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"kind": "Pod"}', "kind must be AdmissionReview"),
        (b'{"kind": "AdmissionReview", "apiVersion": "v1"}', "apiVersion must be"),
        (
            b'{"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1"}',
            "request is required",
        ),
        (
            b'{"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1", "request": {}}',
            "request.uid is required",
        ),
        (
            b'{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1",'
            b'"request":{"uid":"u","operation":"PATCH"}}',
            "request.operation must be",
        ),
        (
            b'{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1",'
            b'"request":{"uid":"u","operation":"CREATE"}}',
            "request.object is required",
        ),
        (
            b'{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1",'
            b'"request":{"uid":"u","operation":"CREATE","object":"x"}}',
            "request.object must be an object",
        ),
        (b"[" * 100_000 + b"]" * 100_000, "malformed JSON"),
    ],
)
async def test_malformed_bodies_get_400(webhook: Webhook, body: bytes, fragment: str) -> None:
    for path in ("/validate", "/mutate"):
        status, doc = await webhook.post(path, body)
        assert status == 400, doc
        assert fragment in doc["error"]


async def test_json_the_fast_decoder_refuses_is_still_judged(webhook: Webhook) -> None:
    """Integers beyond 64 bits and lone surrogates: orjson refuses them, json decides (as in
    `check`), and the answer is still a verdict, the surrogate uid echoed."""
    review = admission_review(harness(description="x"))
    text = json.dumps(review).replace(
        '"description": "x"', '"description": 123456789012345678901234567890'
    )
    text = text.replace(f'"uid": "{review["request"]["uid"]}"', '"uid": "u-\\ud800"')
    for path in ("/validate", "/mutate"):
        status, doc = await webhook.post(path, text.encode())
        assert status == 200, doc
        assert doc["response"]["uid"] == "u-\ud800"
    status, doc = await webhook.post("/validate", text.encode())
    assert doc["response"]["allowed"] is False
    assert "spec.description" in doc["response"]["status"]["message"]


async def test_wrong_content_type_gets_400(webhook: Webhook) -> None:
    status, doc = await webhook.post(
        "/validate", admission_review(harness()), content_type="text/plain"
    )
    assert status == 400
    assert "Content-Type must be application/json" in doc["error"]


async def test_oversized_body_gets_413_and_server_keeps_serving(webhook: Webhook) -> None:
    obj = harness(description="x" * (3 * 1024 * 1024 + 10))
    status, doc = await webhook.post("/validate", admission_review(obj))
    assert status == 413
    assert "exceeds" in doc["error"]

    async def chunked() -> Any:
        for _ in range(64):
            yield b" " * 65536

    async with webhook.session.post(
        webhook.url + "/validate",
        data=chunked(),
        headers={"Content-Type": "application/json"},
        ssl=webhook.ssl,
        timeout=aiohttp.ClientTimeout(total=10),
    ) as resp:
        assert resp.status == 413
    assert (await webhook.review("/validate", admission_review(harness())))["allowed"]


async def test_big_body_below_limit_is_judged_off_loop(webhook: Webhook) -> None:
    obj = harness(description="y" * (1024 * 1024))
    resp = await webhook.review("/validate", admission_review(obj))
    assert resp["allowed"] is True


async def test_http_is_refused_on_the_tls_port(webhook: Webhook) -> None:
    plain = webhook.url.replace("https://", "http://")
    with pytest.raises(aiohttp.ClientError):
        async with webhook.session.post(
            plain + "/validate", data=b"{}", timeout=aiohttp.ClientTimeout(total=5)
        ) as resp:
            await resp.read()


async def test_health_ready_and_metrics(webhook: Webhook) -> None:
    assert await webhook.get("/healthz") == (200, "ok")
    assert await webhook.get("/readyz") == (200, "ok")
    await webhook.review("/validate", admission_review(harness()))
    await webhook.review("/validate", admission_review(harness(backend="hermes")))
    await webhook.post("/validate", b"{nope")
    status, text = await webhook.get("/metrics")
    assert status == 200
    assert counter(text, "AgentHarness", "CREATE", "true") == 1
    assert counter(text, "AgentHarness", "CREATE", "false") == 1
    assert "kagent_substrate_admission_duration_seconds_count 2.0" in text
    assert 'kagent_substrate_admission_bad_requests_total{reason="malformed-json"} 1.0' in text
    denials = re.findall(
        r'^kagent_substrate_admission_denials_total\{kind="AgentHarness",rule="(cel:[^"]+)"\} 1.0$',
        text,
        re.M,
    )
    assert len(denials) == 1, text  # the hermes denial, counted under its CRD rule
    assert re.search(r"^process_resident_memory_bytes \S+$", text, re.M)
    expiry = re.search(r"^kagent_substrate_cert_expiry_timestamp_seconds (\S+)$", text, re.M)
    assert expiry is not None
    assert float(expiry.group(1)) == pytest.approx(webhook.server.cert.not_after)
    assert "claw" not in text  # object names never become labels


async def test_kind_label_is_bounded(webhook: Webhook) -> None:
    for i in range(5):
        obj = {"apiVersion": "example.com/v1", "kind": f"Kind{i}", "metadata": {"name": "x"}}
        await webhook.review("/validate", admission_review(obj))
    _, text = await webhook.get("/metrics")
    assert "Kind0" not in text
    assert counter(text, "other", "CREATE", "true") == 5


async def test_not_ready_while_draining(webhook: Webhook) -> None:
    assert webhook.server.deps is not None
    webhook.server.deps.state.draining = True
    status, text = await webhook.get("/readyz")
    assert (status, text) == (503, "shutting down")


async def test_inline_tokens_never_leak(
    webhook: Webhook, captured_logs: pytest.LogCaptureFixture
) -> None:
    gateway = harness()
    gateway["spec"]["substrate"] = {"gatewayToken": CANARY}
    channel = harness(
        channels=[
            {"name": "tg", "type": "telegram", "telegram": {"botToken": {"value": CANARY}}},
            {"name": "tg", "type": "telegram", "telegram": {"botToken": {"value": CANARY}}},
        ]
    )
    denied = harness(backend="hermes")
    denied["spec"]["substrate"] = {"gatewayToken": CANARY + " ", "workloadImage": "x:y"}
    texts: list[str] = []
    for obj in (gateway, channel, denied):
        for path in ("/validate", "/mutate"):
            status, doc = await webhook.post(path, admission_review(obj))
            assert status == 200
            texts.append(json.dumps(doc))
        status, doc = await webhook.post(
            "/validate", admission_review(obj, old=gateway, operation="UPDATE")
        )
        texts.append(json.dumps(doc))
    status, doc = await webhook.post("/validate", (CANARY + "{").encode())
    texts.append(json.dumps(doc))
    assert any('"allowed": false' in t for t in texts)
    assert any("Secret" in t for t in texts)  # the W5 warnings are there, without the value
    texts.append((await webhook.get("/metrics"))[1])
    texts.append(captured_logs.text)
    texts += [r.getMessage() + repr(r.__dict__) for r in captured_logs.records]
    for text in texts:
        assert CANARY not in text


async def test_concurrent_reviews(webhook: Webhook) -> None:
    reviews = [admission_review(harness(name=f"h{i}")) for i in range(50)]
    answers = await asyncio.gather(*(webhook.review("/validate", r) for r in reviews))
    assert all(a["allowed"] for a in answers)


async def test_deadline_answers_504_in_time(tmp_path: Any, ca: Any, engine: Any) -> None:
    from tests.integration.webhook.conftest import base_config, client_context, start_webhook

    server = await start_webhook(base_config(tmp_path, ca, request_timeout=0.001), engine)
    try:
        review = admission_review(harness(description="z" * (2 * 1024 * 1024)))
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                server.url + "/validate",
                json=review,
                ssl=client_context(ca),
                timeout=aiohttp.ClientTimeout(total=10),
            ) as resp,
        ):
            assert resp.status == 200
            doc = await resp.json()
        response = doc["response"]
        assert response["allowed"] is False
        assert response["status"]["code"] == 504
        assert "did not finish within" in response["status"]["message"]
    finally:
        await server.stop()
