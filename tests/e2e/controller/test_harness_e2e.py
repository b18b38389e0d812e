"""The controller as a real process on the local stack (simulator, webhook), once on the kube
stand-in and once on the real control plane (etcd + kube-apiserver + KCM)."""

from __future__ import annotations

import json
import signal
import urllib.request
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.stack import LocalStack
from tests.e2e.objects import POOL, harness
from tests.realkube.require import bin_dir_or_skip

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=["standin", "real"])
def stack(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[LocalStack]:
    if request.param == "real":
        bin_dir_or_skip()
    s = LocalStack(
        tmp_path_factory.mktemp("e2e"),
        kube=request.param,
        namespace="e2e",
        controller_args=[
            "--lease-duration",
            "4s",
            "--renew-deadline",
            "3s",
            "--retry-period",
            "500ms",
        ],
    )
    s.up()
    s.kubectl("apply", "-n", s.namespace, "-f", "-", input_text=json.dumps(POOL))
    try:
        yield s
    finally:
        s.down()


def apply(stack: LocalStack, *objs: dict[str, Any]) -> None:
    stack.kubectl(
        "apply",
        "-n",
        stack.namespace,
        "-f",
        "-",
        input_text="\n---\n".join(json.dumps(o) for o in objs),
    )


def ready(stack: LocalStack, name: str) -> dict[str, Any] | None:
    obj = stack.get_json("ahr", name, "-n", stack.namespace)
    conds = {c["type"]: c for c in (obj.get("status") or {}).get("conditions", [])}
    return obj if conds.get("Ready", {}).get("status") == "True" else None


def actors(stack: LocalStack) -> list[dict[str, Any]]:
    with urllib.request.urlopen(
        stack.procs["substrate"].ready["debug"] + "?format=json", timeout=5
    ) as resp:
        return list(json.loads(resp.read())["actors"])


def gone(stack: LocalStack, *names: str) -> bool:
    items = stack.get_json("ahr", "-n", stack.namespace)["items"]
    return not any(i["metadata"]["name"] in names for i in items)


def test_apply_ready_update_delete(stack: LocalStack) -> None:
    apply(stack, harness("alpha"))
    obj = stack.wait("alpha Ready", lambda: ready(stack, "alpha"))
    assert obj["status"]["backendRef"]["id"] == "ahr-e2e-alpha"
    assert (
        "ahr-e2e-alpha.actors.resources.substrate.ate.dev"
        in obj["status"]["connection"]["endpoint"]
    )
    assert (
        obj["spec"]["substrate"]["snapshotsConfig"]["location"] == "gs://ate-snapshots/e2e/alpha"
    )  # pinned by the webhook
    template = stack.get_json("actortemplates.ate.dev", "alpha", "-n", stack.namespace)
    assert "tok-alpha" not in json.dumps(template)
    before = template["metadata"]["generation"]

    apply(stack, harness("alpha", env=[{"name": "LOG_LEVEL", "value": "debug"}]))
    updated = stack.wait(
        "template updated",
        lambda: (
            (t := stack.get_json("actortemplates.ate.dev", "alpha", "-n", stack.namespace))[
                "metadata"
            ]["generation"]
            > before
            and t
        ),
    )
    assert {"name": "LOG_LEVEL", "value": "debug"} in updated["spec"]["containers"][0]["env"]
    stack.wait("alpha Ready again", lambda: ready(stack, "alpha"))

    golden = updated["status"].get("goldenActorID")
    stack.kubectl("delete", "ahr", "alpha", "-n", stack.namespace, "--wait=false")
    stack.wait("alpha deleted", lambda: gone(stack, "alpha"))
    stack.wait(
        "template collected",
        lambda: (
            not stack.get_json(
                "actortemplates.ate.dev",
                "-n",
                stack.namespace,
                "--field-selector",
                "metadata.name=alpha",
            )["items"]
        ),
    )
    ids = {a["actor_id"] for a in actors(stack)}
    assert "ahr-e2e-alpha" not in ids and golden not in ids


def test_controller_killed_mid_reconcile_converges_without_leaks_or_duplicates(
    stack: LocalStack,
) -> None:
    names = [f"crash-{i}" for i in range(6)]
    apply(stack, *(harness(n) for n in names))
    stack.procs["controller"].stop(signal.SIGKILL)
    stack.procs["controller"] = stack.start_controller("controller-restarted")
    for n in names:
        stack.wait(f"{n} Ready", lambda n=n: ready(stack, n))
    per_template = Counter(a["template"] for a in actors(stack))
    for n in names:
        assert per_template[f"e2e/{n}"] == 2  # exactly one harness actor and one golden actor
    stack.kubectl("delete", "ahr", *names, "-n", stack.namespace, "--wait=false")
    stack.procs["controller"].stop(signal.SIGKILL)
    stack.procs["controller"] = stack.start_controller("controller-restarted-2")
    stack.wait("all deleted", lambda: gone(stack, *names))
    left = [a for a in actors(stack) if a["template"].split("/")[1] in names]
    assert left == []


def test_two_replicas_one_leader_and_handover(stack: LocalStack) -> None:
    second = stack.start_controller("controller-b")
    try:

        def holder() -> str:
            lease = stack.get_json(
                "leases.coordination.k8s.io", "kagent-substrate-controller", "-n", "kagent"
            )
            return str(lease["spec"].get("holderIdentity") or "")

        first_id = stack.procs["controller"].ready["identity"]
        stack.wait("first replica leads", lambda: holder() == first_id)
        stack.procs["controller"].stop(signal.SIGKILL)  # no release: the lease must expire
        stack.wait(
            "second replica takes over", lambda: holder() == second.ready["identity"], timeout=30
        )
        apply(stack, harness("after-handover"))
        stack.wait(
            "reconciled by the new leader", lambda: ready(stack, "after-handover"), timeout=60
        )
    finally:
        stack.procs["controller"] = second


def test_kubectl_imperative_commands_events_and_describe(stack: LocalStack) -> None:
    """Imperative kubectl create (protobuf bodies) on the real apiserver; on both tiers, the
    controller's events.k8s.io events in ``get events`` and ``describe``."""
    ns = stack.namespace
    if stack.kube == "real":
        stack.kubectl(
            "create", "secret", "generic", "imperative-gw", "-n", ns, "--from-literal=token=t0k"
        )
        stack.kubectl("create", "configmap", "imperative-cm", "-n", ns, "--from-literal=ids=1,2")
        stack.kubectl("create", "namespace", "imperative-ns")
    else:  # the stand-in speaks no protobuf (docs/devstack.md): the same Secret as JSON
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "imperative-gw"},
            "stringData": {"token": "t0k"},
        }
        apply(stack, secret)
    apply(
        stack,
        harness("described", substrate={"gatewayTokenSecretRef": {"name": "imperative-gw"}}),
    )
    stack.wait("described Ready", lambda: ready(stack, "described"))

    # A Warning event on a live object: hold it with a finalizer of ours, ask for deletion
    # without Substrate cleanup; the controller records CleanupSkipped and lets go.
    hold = '[{"op":"add","path":"/metadata/finalizers/-","value":"e2e.kagent.dev/hold"}]'
    skip = '{"metadata":{"annotations":{"kagent.dev/skip-substrate-cleanup":"true"}}}'
    stack.kubectl("patch", "ahr", "described", "-n", ns, "--type=json", "-p", hold)
    stack.kubectl("patch", "ahr", "described", "-n", ns, "--type=merge", "-p", skip)
    stack.kubectl("delete", "ahr", "described", "-n", ns, "--wait=false")

    def events() -> str:
        out = stack.kubectl(
            "get", "events", "-n", ns, "--field-selector", "involvedObject.name=described"
        ).stdout
        return out if "CleanupSkipped" in out else ""

    listed = stack.wait("controller events listed", events)
    assert "t0k" not in listed
    header, *rows = listed.splitlines()  # the apiserver's Event columns on both tiers
    assert header.split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"], listed
    assert any(
        r.split()[1:4] == ["Warning", "CleanupSkipped", "agentharness/described"] for r in rows
    )
    described = stack.kubectl("describe", "ahr", "described", "-n", ns).stdout
    assert "CleanupSkipped" in described.split("Events:", 1)[1], described
    stack.kubectl(
        "patch",
        "ahr",
        "described",
        "-n",
        ns,
        "--type=merge",
        "-p",
        '{"metadata":{"finalizers":null}}',
    )
    stack.wait("described deleted", lambda: gone(stack, "described"))
