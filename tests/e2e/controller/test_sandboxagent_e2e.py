"""SandboxAgents and sessions through the gateway, all real processes on the local stack, once
on the kube stand-in and once on the real control plane (TokenReview/SAR answered by RBAC)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import yaml

from devstack.stack import ROOT, LocalStack
from tests.realkube.gateway_callers import gateway_caller_tokens
from tests.realkube.require import bin_dir_or_skip

pytestmark = pytest.mark.e2e
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module", params=["standin", "real"])
def stack(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[LocalStack]:
    if request.param == "real":
        bin_dir_or_skip()
    s = LocalStack(tmp_path_factory.mktemp("sa-e2e"), kube=request.param, namespace="agents")
    s.up()
    for name in (
        "workerpool.yaml",
        "sandboxagent-go-substrate.yaml",
        "sandboxagent-minimal-substrate.yaml",
    ):
        s.kubectl("apply", "-n", s.namespace, "-f", str(EXAMPLES / name))
    try:
        yield s
    finally:
        s.down()


def send(
    stack: LocalStack, agent: str, session: str, text: str, token: str | None = None
) -> tuple[int, dict[str, Any]]:
    url = (
        f"{stack.procs['controller'].ready['gateway']}/api/a2a-sandboxes/{stack.namespace}/{agent}/"
    )
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "message/send",
        "params": {
            "message": {
                "role": "user",
                "messageId": text,
                "contextId": session,
                "parts": [{"kind": "text", "text": text}],
            }
        },
    }
    headers = {"Content-Type": "application/json"}
    bearer = stack.demo_token_file.read_text().strip() if token is None else token
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, {}


def actors(stack: LocalStack) -> list[dict[str, Any]]:
    with urllib.request.urlopen(
        stack.procs["substrate"].ready["debug"] + "?format=json", timeout=5
    ) as resp:
        return list(json.loads(resp.read())["actors"])


def ready(stack: LocalStack, name: str) -> bool:
    obj = stack.get_json("sandboxagents", name, "-n", stack.namespace)
    return any(
        c["type"] == "Ready" and c["status"] == "True"
        for c in (obj.get("status") or {}).get("conditions", [])
    )


def test_sessions_end_to_end(stack: LocalStack) -> None:
    stack.wait("hello-agent Ready", lambda: ready(stack, "hello-agent"), timeout=90)

    # 20 rapid follow-ups on one session: never a suspend race, never a failure.
    for i in range(20):
        status, answer = send(stack, "hello-agent", "s-rapid", f"m{i}")
        assert status == 200 and "error" not in answer, (i, answer)

    # Two concurrent sessions -> two actors.
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda s: send(stack, "hello-agent", s, "hi"), ["s-one", "s-two"]))
    assert all(code == 200 for code, _ in results)
    template = "agents/asr-hello-agent"
    session_actors = {a["actor_id"] for a in actors(stack) if a["template"] == template}
    assert {
        "asr-agents-hello-agent-s-one",
        "asr-agents-hello-agent-s-two",
        "asr-agents-hello-agent-s-rapid",
    } <= session_actors

    # Unauthenticated callers are refused.
    assert send(stack, "hello-agent", "s-one", "x", token="")[0] == 401

    # Deleting the agent removes every session actor and the golden actor.
    stack.kubectl("delete", "sandboxagent", "hello-agent", "-n", stack.namespace, "--wait=false")
    stack.wait(
        "agent gone",
        lambda: (
            not stack.get_json(
                "sandboxagents",
                "-n",
                stack.namespace,
                "--field-selector",
                "metadata.name=hello-agent",
            )["items"]
        ),
    )
    stack.wait(
        "its actors gone", lambda: not [a for a in actors(stack) if a["template"] == template]
    )


def test_gateway_with_serviceaccount_tokens_and_rbac(stack: LocalStack) -> None:
    """The gateway's TokenReview and SubjectAccessReview answered by the real apiserver: a
    ServiceAccount token from TokenRequest whose account RBAC allows ``sandboxagents/gateway``
    gets through; one without the grant gets 403; a forged token gets 401."""
    if stack.kube != "real":
        pytest.skip("real ServiceAccount tokens and RBAC need the real apiserver")
    ns = stack.namespace
    stack.kubectl("apply", "-n", ns, "-f", str(EXAMPLES / "sandboxagent-minimal-substrate.yaml"))
    agent = yaml_name(EXAMPLES / "sandboxagent-minimal-substrate.yaml")
    stack.wait(f"{agent} Ready", lambda: ready(stack, agent), timeout=90)
    ok, denied = gateway_caller_tokens(stack, ns)
    status, answer = send(stack, agent, "sa-session", "hi", token=ok)
    assert status == 200 and "error" not in answer, answer
    assert send(stack, agent, "sa-session-2", "hi", token=denied)[0] == 403
    assert send(stack, agent, "sa-session-3", "hi", token=ok[:-4] + "AAAA")[0] == 401


def yaml_name(path: Any) -> str:
    return str(yaml.safe_load(path.read_text())["metadata"]["name"])
