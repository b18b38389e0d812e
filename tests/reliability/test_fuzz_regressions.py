"""Crashes found by `test_fuzz.py`, pinned as plain tests."""

from __future__ import annotations

import pytest

from shared.policy.engine import EngineConfig, PolicyEngine
from webhook.review import review


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    return PolicyEngine.from_dir(None, EngineConfig(default_namespace="default"))


@pytest.mark.parametrize("metadata", ["0", 5, True, ["a"]])
def test_non_object_metadata_on_a_substrate_harness_is_a_denial_not_a_crash(
    engine: PolicyEngine, metadata: object
) -> None:
    # Found by the near-miss fuzzer: the pinning mutation read metadata.name with .get().
    obj = {
        "apiVersion": "kagent.dev/v1alpha2",
        "kind": "AgentHarness",
        "metadata": metadata,
        "spec": {"backend": "openclaw", "runtime": "substrate", "substrate": {"gatewayToken": "t"}},
    }
    verdict = engine.admit(obj, old=None, operation="CREATE", namespace="team-a")
    assert not verdict.allowed
    assert any(v.path == "metadata" for v in verdict.violations)
    envelope = {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {"uid": "u-1", "operation": "CREATE", "namespace": "team-a", "object": obj},
    }
    answer = review(engine, envelope, mutate=True).body
    assert answer["response"] == {"uid": "u-1", "allowed": True}


class _Broken:
    """An engine whose verdict raises (stands in for any evaluation bug)."""

    def __init__(self, real: PolicyEngine) -> None:
        self.config = real.config
        self._real = real

    def __getattr__(self, name: str) -> object:
        return getattr(self._real, name)

    def admit(self, *args: object, **kwargs: object) -> object:
        raise AttributeError("boom")


async def test_an_internal_error_answer_still_echoes_the_request_uid(
    tmp_path, engine: PolicyEngine
) -> None:
    # Found by the fuzzer: the 500-in-AdmissionReview answer carried uid "" (the decoded request
    # was lost with the exception), which the API server rejects as a malformed response.
    import aiohttp

    from shared.certs import make_ca
    from tests.integration.webhook.conftest import base_config, client_context, start_webhook

    ca = make_ca("regression-ca")
    server = await start_webhook(base_config(tmp_path, ca), _Broken(engine))  # type: ignore[arg-type]
    body = {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {"uid": "u-42", "operation": "CREATE", "object": {"kind": "AgentHarness"}},
    }
    try:
        async with aiohttp.ClientSession() as session:
            for path in ("/validate", "/mutate"):
                async with session.post(
                    server.url + path, json=body, ssl=client_context(ca)
                ) as resp:
                    assert resp.status == 200
                    doc = await resp.json()
                assert doc["response"]["uid"] == "u-42"
                assert doc["response"]["allowed"] is False
                assert doc["response"]["status"]["code"] == 500
    finally:
        await server.stop()


@pytest.mark.parametrize("char", ["\x85", "\x94", "\x7f"])
def test_check_reads_raw_c1_characters_in_json_like_kubectl(tmp_path, char: str) -> None:
    # Found by fuzzing (check refused raw U+007F-U+009F in JSON and read U+0085 as a space);
    # fixed in shared/check by 581585b.
    import json

    from shared.check.inputs import parse_documents

    text = json.dumps(
        {"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": char}}, ensure_ascii=False
    )
    (doc,) = parse_documents(str(tmp_path / "x.json"), text)
    assert getattr(doc, "obj", None) == json.loads(text)


def _nested(levels: int) -> object:
    value: object = "x"
    for i in range(levels):
        value = {"a": value} if i % 2 else [value]
    return value


@pytest.mark.parametrize("levels", [500, 900])
@pytest.mark.parametrize("copy", [True, False])
@pytest.mark.parametrize("where", ["description", "spec"])
def test_hundreds_of_nesting_levels_are_a_denial_not_a_crash(
    engine: PolicyEngine, levels: int, copy: bool, where: str
) -> None:
    # Found by fuzzing: RecursionError in the engine's copy/walk and in rendering the bad value
    # of a violation (Violation.message), which the webhook answered as an internal error.
    obj: dict = {
        "apiVersion": "kagent.dev/v1alpha2",
        "kind": "AgentHarness",
        "metadata": {"name": "deep"},
        "spec": {"backend": "openclaw", "runtime": "substrate", "substrate": {"gatewayToken": "t"}},
    }
    if where == "spec":
        obj["spec"] = _nested(levels)
    else:
        obj["spec"]["description"] = _nested(levels)
    verdict = engine.admit(obj, operation="CREATE", copy=copy)
    assert not verdict.allowed
    assert all(isinstance(v.message, str) for v in verdict.violations)


def test_check_reads_exponent_numbers_in_json_as_numbers(tmp_path) -> None:
    # Found by the long fuzz run (YAML 1.1 read 1e-09 as a string); fixed by 0b155e2.
    import json

    from shared.check.inputs import parse_documents

    text = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "x": 1e-09, "y": 1e21})
    (doc,) = parse_documents(str(tmp_path / "x.json"), text)
    assert getattr(doc, "obj", None) == json.loads(text)


@pytest.mark.parametrize(
    "text",
    [
        '{"apiVersion": "kagent.dev/v1alpha2", "kind": "AgentHarness", "metadata": {"name": "a"},'
        ' "spec": {"description": "\\ud800"}}',
        '{"\\ud800": 1}',
    ],
)
def test_check_judges_json_that_yaml_cannot_compose(tmp_path, engine: PolicyEngine, text) -> None:
    # Found by the long fuzz run: an escaped lone surrogate is valid JSON (the webhook judges
    # it) but YAML refuses it; check's line fallback had no marks and crashed (exit 3).
    import json

    from shared.check.inputs import Document, Problem, parse_documents

    (item,) = parse_documents(str(tmp_path / "x.json"), text)
    if isinstance(item, Document):
        assert item.obj == json.loads(text) and item.line == 1
        assert engine.admit(item.obj, namespace="team-a").allowed in (True, False)
    else:
        assert isinstance(item, Problem) and item.line == 1


@pytest.mark.parametrize("namespace", [["a"], 5, {"x": 1}])
def test_a_non_string_metadata_namespace_is_a_violation_and_never_the_namespace(
    engine: PolicyEngine, namespace: object
) -> None:
    # Found by the long fuzz run: check used a list metadata.namespace as the harness namespace
    # in W4's message while the webhook used the request's; neither is a namespace.
    obj = {
        "apiVersion": "kagent.dev/v1alpha2",
        "kind": "AgentHarness",
        "metadata": {"name": "a", "namespace": namespace},
        "spec": {
            "backend": "openclaw",
            "runtime": "substrate",
            "modelConfigRef": "team-a/gpt-4o",
            "substrate": {"gatewayTokenSecretRef": {"name": "g"}},
        },
    }
    verdict = engine.admit(obj)
    messages = [v.message for v in verdict.violations]
    assert "metadata.namespace: Invalid value" in " ".join(messages)
    # The apiserver never calls the validating webhook for an object it refused, so no W rule
    # (which would name a namespace) is reported next to the metadata error.
    assert not any("modelConfigRef" in m for m in messages)
