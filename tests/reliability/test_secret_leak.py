"""Secret-leak audit: canary values in every secret-bearing field, an end-to-end run on the local
stack (real processes), then a scan of everything a user, an operator or a scraper can see:
process logs, events, every object except Secrets (harness specs apart: the user wrote them),
kubectl output and warnings, metrics and health endpoints, the simulator's /debug, and the
webhook's answers to reviews carrying the canaries. Goal: 0 hits.
"""

from __future__ import annotations

import base64
import json
import ssl
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.stack import DEFAULT_POOL, LocalStack
from tests.leakscan import decoded, strings

pytestmark = pytest.mark.e2e

NS = "leak"
CANARIES = {
    "ate-api bearer token": "CANARY-bearer-5b1e0c77a2",
    "gateway token in a Secret": "CANARY-gwsecret-93d4f1aa0e",
    "inline gateway token": "CANARY-gwinline-0f8e2d7c31",
    "telegram bot token in a Secret": "CANARY-tgsecret-6a2b9e4d15",
    "inline telegram bot token": "CANARY-tginline-c8f1a0b374",
    "slack bot token in a Secret": "CANARY-slackbot-2e7d5c9a60",
    "slack app token in a Secret": "CANARY-slackapp-71b3e8f0d2",
    "inline slack app token": "CANARY-slackinline-4d0a6f2b98",
    "model API key in a Secret": "CANARY-modelkey-e5c2a1f097",
    "env secretKeyRef value": "CANARY-envsecret-8b4f7d3e26",
    "telegram allowlist in a Secret": "CANARY-allowsecret-9c3e1b7a52",
    "SandboxAgent system message in a Secret": "CANARY-sysmsg-1e8b4d2c96",
    "SandboxAgent env secretKeyRef value": "CANARY-saenv-5d2a7f0c18",
}
"""Every field that can name a Secret (or a ConfigMap value source, given a Secret here)."""
IMAGE = "ghcr.io/x/openclaw@sha256:" + "3f1c9a7e5b2d4c6a" * 4


def _forms(value: str) -> list[str]:
    """The canary and its base64 (as Secret data, or a careless encoder, would show it)."""
    return [value, base64.b64encode(value.encode()).decode()]


def _secret(name: str, data: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": data}


def manifests() -> list[dict[str, Any]]:
    """Secrets, a ModelConfig, a pool and three harnesses using every secret-bearing field."""
    c = CANARIES
    harness = {"apiVersion": "kagent.dev/v1alpha2", "kind": "AgentHarness"}
    return [
        _secret("gw", {"token": c["gateway token in a Secret"]}),
        _secret(
            "channels",
            {
                "telegram": c["telegram bot token in a Secret"],
                "slack-bot": c["slack bot token in a Secret"],
                "slack-app": c["slack app token in a Secret"],
            },
        ),
        _secret("model", {"key": c["model API key in a Secret"]}),
        _secret("env", {"token": c["env secretKeyRef value"]}),
        _secret("allow", {"ids": c["telegram allowlist in a Secret"]}),
        _secret(
            "agent-inputs",
            {
                "system": c["SandboxAgent system message in a Secret"],
                "env": c["SandboxAgent env secretKeyRef value"],
            },
        ),
        {
            "apiVersion": "kagent.dev/v1alpha2",
            "kind": "ModelConfig",
            "metadata": {"name": "m"},
            "spec": {
                "provider": "OpenAI",
                "model": "gpt-4o",
                "apiKeySecret": "model",
                "apiKeySecretKey": "key",
            },
        },
        {
            "apiVersion": "ate.dev/v1alpha1",
            "kind": "WorkerPool",
            "metadata": {"name": DEFAULT_POOL},
            "spec": {"replicas": 8, "ateomImage": IMAGE},
        },
        {
            **harness,
            "metadata": {"name": "from-secrets"},
            "spec": {
                "backend": "openclaw",
                "runtime": "substrate",
                "modelConfigRef": "m",
                "env": [
                    {"name": "PLAIN", "value": "not-secret"},
                    {
                        "name": "TOKEN",
                        "valueFrom": {"secretKeyRef": {"name": "env", "key": "token"}},
                    },
                ],
                "channels": [
                    {
                        "name": "tg",
                        "type": "telegram",
                        "telegram": {
                            "botToken": {
                                "valueFrom": {
                                    "type": "Secret",
                                    "name": "channels",
                                    "key": "telegram",
                                }
                            },
                            "allowedUserIDsFrom": {"type": "Secret", "name": "allow", "key": "ids"},
                        },
                    },
                    {
                        "name": "ops",
                        "type": "slack",
                        "slack": {
                            "botToken": {
                                "valueFrom": {
                                    "type": "Secret",
                                    "name": "channels",
                                    "key": "slack-bot",
                                }
                            },
                            "appToken": {
                                "valueFrom": {
                                    "type": "Secret",
                                    "name": "channels",
                                    "key": "slack-app",
                                }
                            },
                            "openclaw": {},
                        },
                    },
                ],
                "substrate": {"gatewayTokenSecretRef": {"name": "gw"}, "workloadImage": IMAGE},
            },
        },
        {
            **harness,
            "metadata": {"name": "inline"},
            "spec": {
                "backend": "nemoclaw",
                "runtime": "substrate",
                "channels": [
                    {
                        "name": "tg",
                        "type": "telegram",
                        "telegram": {
                            "botToken": {"value": c["inline telegram bot token"]},
                            "allowedUserIDs": ["1"],
                        },
                    },
                    {
                        "name": "ops",
                        "type": "slack",
                        "slack": {
                            "botToken": {
                                "valueFrom": {
                                    "type": "Secret",
                                    "name": "channels",
                                    "key": "slack-bot",
                                }
                            },
                            "appToken": {"value": c["inline slack app token"]},
                            "openclaw": {},
                        },
                    },
                ],
                "substrate": {"gatewayToken": c["inline gateway token"]},
            },
        },
        {
            "apiVersion": "kagent.dev/v1alpha2",
            "kind": "SandboxAgent",
            "metadata": {"name": "agent"},
            "spec": {
                "platform": "substrate",
                "type": "Declarative",
                "declarative": {
                    "modelConfig": "m",
                    "systemMessageFrom": {
                        "type": "Secret",
                        "name": "agent-inputs",
                        "key": "system",
                    },
                    "deployment": {
                        "env": [
                            {
                                "name": "AGENT_TOKEN",
                                "valueFrom": {
                                    "secretKeyRef": {"name": "agent-inputs", "key": "env"}
                                },
                            }
                        ]
                    },
                },
                "substrate": {"workerPoolRef": {"name": DEFAULT_POOL}},
            },
        },
    ]


# A denied harness carrying canaries: the denial must not echo them.
DENIED = {
    "apiVersion": "kagent.dev/v1alpha2",
    "kind": "AgentHarness",
    "metadata": {"name": "denied"},
    "spec": {
        "backend": "openclaw",
        "runtime": "substrate",
        "channels": [
            {
                "name": "tg",
                "type": "telegram",
                "telegram": {
                    "botToken": {
                        "value": CANARIES["inline telegram bot token"],
                        "valueFrom": {"type": "ConfigMap", "name": "x", "key": "y"},
                    }
                },
            }
        ],
        "substrate": {
            "gatewayToken": CANARIES["inline gateway token"],
            "gatewayTokenSecretRef": {"name": "gw"},
        },
    },
}


def _ready(obj: dict[str, Any]) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (obj.get("status") or {}).get("conditions") or []
    )


def _http(url: str, body: bytes | None = None, ctx: ssl.SSLContext | None = None) -> str:
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10, context=ctx) as resp:
        return resp.read().decode(errors="replace")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    s = LocalStack(
        tmp_path_factory.mktemp("leak"),
        namespace=NS,
        ate_api_token=CANARIES["ate-api bearer token"],
        controller_args=["--log-level", "DEBUG"],
    )
    s.up()
    yield s
    s.down()


def test_no_canary_anywhere(stack: LocalStack) -> None:
    seen: dict[str, str] = {}  # source -> text scanned

    def run(*args: str, **kw: Any) -> Any:
        proc = stack.kubectl(*args, **kw)
        seen[f"kubectl {' '.join(args)[:60]} (stdout+stderr)"] = proc.stdout + proc.stderr
        return proc

    for obj in manifests():
        run("create", "-n", NS, "-f", "-", input_text=json.dumps(obj))
    denied = run("create", "-n", NS, "-f", "-", input_text=json.dumps(DENIED), check=False)
    assert denied.returncode != 0, denied.stderr

    def all_ready() -> bool:
        items = stack.get_json("agentharnesses", "-n", NS)["items"]
        agents = stack.get_json("sandboxagents", "-n", NS)["items"]
        return len(items) == 2 and all(_ready(i) for i in [*items, *agents])

    stack.wait("harnesses Ready (bearer token enforced by the simulator)", all_ready, timeout=90)
    ready = stack.procs
    debug = ready["substrate"].ready["debug"]
    controller_metrics = ready["controller"].ready["metrics"].rstrip("/") + "/metrics"
    webhook_metrics = ready["webhook"].ready["metrics"].rstrip("/") + "/metrics"

    # Everything the API serves, Secrets apart; harness specs apart (the user's own input).
    kinds = run("api-resources", "--verbs=list", "-o", "name").stdout.split()
    kinds = [k for k in kinds if k.split(".")[0] != "secrets"]
    listing = stack.kubectl("get", ",".join(kinds), "-A", "-o", "json")  # split below
    seen["kubectl get (all kinds) stderr"] = listing.stderr
    objects = json.loads(listing.stdout)["items"]
    for obj in objects:
        if obj.get("kind") in ("AgentHarness", "SandboxAgent"):
            obj = {k: v for k, v in obj.items() if k != "spec"}
        key = f"object {obj.get('kind')} {obj['metadata'].get('namespace', '')}/{obj['metadata']['name']}"
        # every string, and what every base64 run in it decodes to (startup scripts embed
        # openclaw.json as base64)
        seen[key] = "\n".join(t for text in strings(obj) for t in decoded(text))
    assert any(o.get("kind") == "ActorTemplate" for o in objects)
    # Positive control: the scanner's forms do match where the canaries legitimately live (the
    # Secrets, incl. the controller's owned copy of the inline gateway token).
    secrets = json.dumps(stack.get_json("secrets", "-n", NS))
    for label in ("gateway token in a Secret", "inline gateway token"):
        assert _forms(CANARIES[label])[1] in secrets, label
    run("get", "events", "-A", "-o", "json")
    run("get", "events.events.k8s.io", "-A", "-o", "json")
    # (`kubectl describe` prints the spec, i.e. the user's own inline tokens: not scanned.)
    run("get", "agentharnesses", "-n", NS, "-o", "wide")

    for name, url in {
        "controller /metrics": controller_metrics,
        "webhook /metrics": webhook_metrics,
        "controller /healthz": ready["controller"].ready["health"].rstrip("/") + "/healthz",
        "controller /readyz": ready["controller"].ready["health"].rstrip("/") + "/readyz",
        "simulator /debug (JSON)": debug + "?format=json",
        "simulator /debug (HTML)": debug,
    }.items():
        seen[name] = _http(url)

    # The webhook's own answers to reviews that carry the canaries (allowed and denied).
    ctx = ssl.create_default_context(cafile=str(stack.workdir / "webhook-certs" / "ca.crt"))
    for obj in [*(m for m in manifests() if m["kind"] == "AgentHarness"), DENIED]:
        review = {
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": "leak",
                "operation": "CREATE",
                "namespace": NS,
                "kind": {"group": "kagent.dev", "version": "v1alpha2", "kind": "AgentHarness"},
                "object": obj,
            },
        }
        for path in ("/validate", "/mutate"):
            answer = _http(
                stack.procs["webhook"].ready["arg0"] + path, json.dumps(review).encode(), ctx
            )
            seen[f"webhook {path} answer for {obj['metadata']['name']}"] = answer

    # Delete everything: the cleanup path logs too.
    run("delete", "agentharnesses", "--all", "-n", NS, "--wait=false")
    stack.wait(
        "harnesses gone",
        lambda: not stack.get_json("agentharnesses", "-n", NS)["items"],
        timeout=90,
    )
    seen["simulator /debug after deletion"] = _http(debug + "?format=json")
    for log in sorted(stack.workdir.glob("*.log")):
        seen[f"log {log.name}"] = log.read_text(errors="replace")

    hits = [
        f"{label} ({form[:12]}…) in {source}"
        for source, text in seen.items()
        for label, value in CANARIES.items()
        for form in _forms(value)
        if form in text
    ]
    kinds_seen = sorted({s.split()[1] for s in seen if s.startswith("object ")})
    report = (
        f"\nsecret-leak audit: {len(CANARIES)} canaries x 2 forms over {len(seen)} sources "
        f"({sum(len(t) for t in seen.values()):,} chars): {len(hits)} hits; object kinds "
        f"scanned: {', '.join(kinds_seen)}"
    )
    print(report)
    (Path(stack.workdir) / "leak-report.txt").write_text(report + "\n" + "\n".join(hits))
    assert not hits, "\n".join(hits)
    assert sum(1 for s in seen if s.startswith("log ")) >= 4
