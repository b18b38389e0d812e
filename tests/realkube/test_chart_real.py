"""The chart, for real (issue 14, 3f): ``helm install`` into a real kube-apiserver, then the
webhook and the controller run as local processes with exactly what the installed Deployments
give them and as the chart's ServiceAccounts, so only the chart's RBAC stands behind them.

What a kubelet would do is emulated and nothing more: each container's ``args`` are taken from
the installed Deployment; the volumes are materialised into local folders (the ConfigMap's
files, emptyDirs, the projected ServiceAccount token via TokenRequest with the chart's audience
and lifetime) and the args' mount paths point there; the pod's API credentials are a
TokenRequest token of the pod's ServiceAccount in a kubeconfig. The only flags appended are
network ones (127.0.0.1 and free ports; the simulator's ate-api/router addresses and CA), short
requeue/lease timings, and ``--extra-host=127.0.0.1`` for the self-signed certificate.

There is no cluster network, so a Helm post-renderer (`tests.realkube.postrender`) turns the
webhook configurations' ``service:`` into ``url: https://127.0.0.1:PORT/...`` before Helm records
them (what Helm upgrades and uninstalls is what was installed). The webhook, in its chart mode
``--self-signed``, patches ``caBundle`` into both configurations itself with its chart RBAC.

The apiserver runs the ``OwnerReferencesPermissionEnforcement`` admission plugin (setting
``blockOwnerDeletion`` needs ``update`` on the owner's ``finalizers``), and its audit log records
every request of the two ServiceAccounts: no request of theirs may be refused (401/403), and the
requests they made are compared with the chart's grants.

The tests run in file order on one module-scoped installation: install, harness flow,
SandboxAgent session, Lease, least privilege, upgrade (to per-namespace RBAC), uninstall.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from devstack.realkube.plane import ControlPlane, free_port, kubeconfig
from devstack.stack import CLI, FAST_CONTROLLER_FLAGS, ROOT, LocalStack, Proc, kubectl, start
from tests.chart.render import CHART, RUNTIME_IMAGE, helm_binary
from tests.e2e.controller.test_harness_e2e import actors, apply, gone, harness
from tests.e2e.controller.test_harness_e2e import ready as harness_ready
from tests.e2e.controller.test_sandboxagent_e2e import ready as agent_ready
from tests.e2e.controller.test_sandboxagent_e2e import send
from tests.realkube.gateway_callers import gateway_caller_tokens
from tests.realkube.require import bin_dir_or_skip

pytestmark = pytest.mark.e2e

RELEASE = "kchart"
RELEASE_NS = "kchart-system"
FULLNAME = "kchart-kagent-substrate"
AGENTS = "agents"
POOL = "kchart-pool"
CONTROLLER_SA = f"{FULLNAME}-controller"
WEBHOOK_SA = f"{FULLNAME}-webhook"
LEASE = f"{FULLNAME}-controller"
EXAMPLES = ROOT / "examples"
VALUES: dict[str, Any] = {
    "workerPool": {
        "create": True,
        "name": POOL,
        "replicas": 20,
        "ateomImage": "registry/ateom@sha256:" + "a" * 64,
    },
    "controller": {"gateway": {"enabled": True}, "sandboxRuntimeImage": RUNTIME_IMAGE},
}
NAMESPACED_VALUES: dict[str, Any] = {**VALUES, "rbac": {"namespaces": [AGENTS]}}
HOOK_KINDS = ("validatingwebhookconfigurations", "mutatingwebhookconfigurations")
GC_TIMEOUT = 90.0
KEPT = "kept"
"""A harness deleted with kagent.dev/skip-substrate-cleanup: its actors stay by design."""


def sa_user(name: str) -> str:
    return f"system:serviceaccount:{RELEASE_NS}:{name}"


@dataclass
class Chart:
    """The installed release and the processes standing in for its pods."""

    plane: ControlPlane
    stack: LocalStack
    webhook_url: str
    started: dict[str, float] = field(default_factory=dict)
    """When each component (re)started (epoch seconds): audit windows start there."""

    def __repr__(self) -> str:  # never the tokens inside plane and stack in a traceback
        return f"Chart(workdir={self.stack.workdir}, webhook_url={self.webhook_url})"

    @property
    def admin(self) -> Path:
        return self.plane.kubeconfig_path()

    def kubectl(self, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        return kubectl(self.admin, *args, **kw)

    def helm(self, *args: str, values: dict[str, Any] | None = None) -> str:
        """Run the project's helm as admin; post-rendered to url form; fails on exit code."""
        home = self.stack.workdir / "helm-home"
        home.mkdir(exist_ok=True)
        extra: list[str] = []
        if values is not None:
            path = self.stack.workdir / "values.yaml"
            path.write_text(yaml.safe_dump(values))
            extra = ["-f", str(path)]
        if args[0] in ("install", "upgrade"):
            extra += [
                "--post-renderer",
                sys.executable,
                "--post-renderer-args=-m",
                "--post-renderer-args=tests.realkube.postrender",
                f"--post-renderer-args={self.webhook_url}",
            ]
        env = {
            **os.environ,
            **{f"HELM_{k}_HOME": str(home / k.lower()) for k in ("CACHE", "CONFIG", "DATA")},
        }
        proc = subprocess.run(
            [str(helm_binary()), *args, "--kubeconfig", str(self.admin), *extra],
            capture_output=True,
            text=True,
            timeout=180,
            cwd=ROOT,
            env=env,
            check=False,
        )
        assert proc.returncode == 0, f"helm {args[0]} failed: {proc.stderr}"
        return proc.stdout

    def get(self, *args: str) -> Any:
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def exists(self, *args: str) -> bool:
        out = self.kubectl("get", *args, "--ignore-not-found", "-o", "name", check=False)
        assert out.returncode == 0, out.stderr
        return bool(out.stdout.strip())

    # -- the kubelet's part ---------------------------------------------------------------
    def token(self, sa: str, *extra: str) -> str:
        """A TokenRequest token of ``sa`` in the release namespace (``kubectl create token``)."""
        out = self.kubectl("create", "token", sa, "-n", RELEASE_NS, *extra)
        return out.stdout.strip()

    def sa_kubeconfig(self, sa: str) -> Path:
        """The pod's API credentials: a kubeconfig with a token of its ServiceAccount."""
        assert self.plane.ca is not None
        path = self.stack.workdir / f"{sa}.kubeconfig"
        path.touch(mode=0o600, exist_ok=True)
        config = kubeconfig(self.plane.url, self.plane.ca.cert_pem, sa, self.token(sa))
        path.write_text(yaml.safe_dump(config))
        return path

    def pod(self, component: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The installed Deployment's pod spec and its one container."""
        dep = self.get("deployment", f"{FULLNAME}-{component}", "-n", RELEASE_NS)
        spec = dep["spec"]["template"]["spec"]
        (container,) = spec["containers"]
        assert container["command"] == ["kagent-substrate"]
        return spec, container

    def mount(self, component: str, spec: dict[str, Any], container: dict[str, Any]) -> list[str]:
        """Materialise the container's volumes under the work folder; return its args with
        every mount path replaced by the local folder."""
        root = self.stack.workdir / f"{component}-volumes"
        shutil.rmtree(root, ignore_errors=True)
        volumes = {v["name"]: v for v in spec.get("volumes") or []}
        mounts: dict[str, str] = {}
        for m in container.get("volumeMounts") or []:
            local = root / m["name"]
            local.mkdir(parents=True)
            volume = volumes[m["name"]]
            if "configMap" in volume:
                cm = self.get("configmap", volume["configMap"]["name"], "-n", RELEASE_NS)
                for key, text in cm["data"].items():
                    (local / key).write_text(text)
            elif "projected" in volume:
                for source in volume["projected"]["sources"]:
                    sat = source["serviceAccountToken"]
                    file = local / sat["path"]
                    file.touch(mode=0o600)
                    file.write_text(
                        self.token(
                            spec["serviceAccountName"],
                            f"--audience={sat['audience']}",
                            f"--duration={sat['expirationSeconds']}s",
                        )
                    )
            else:
                assert "emptyDir" in volume, f"unexpected volume {volume}"
            mounts[m["mountPath"].rstrip("/")] = str(local)
        args: list[str] = []
        for arg in container["args"]:
            flag, eq, value = arg.partition("=")
            for path, local in sorted(mounts.items(), key=lambda m: -len(m[0])):
                if eq and (value == path or value.startswith(path + "/")):
                    arg = flag + eq + local + value[len(path) :]
                    break
            args.append(arg)
        return args

    def start_webhook(self) -> Proc:
        spec, container = self.pod("webhook")
        args = self.mount("webhook", spec, container)
        port = self.webhook_url.rsplit(":", 1)[1]
        self.started["webhook"] = time.time()
        proc = start(
            "webhook",
            [
                *CLI,
                *args,
                f"--port={port}",
                "--metrics-port=0",
                "--bind-address=127.0.0.1",
                "--extra-host=127.0.0.1",
                f"--kubeconfig={self.sa_kubeconfig(spec['serviceAccountName'])}",
                "--shutdown-delay=0",
            ],
            self.stack.workdir,
        )
        assert proc.ready["arg0"] == self.webhook_url
        self.stack.procs["webhook"] = proc
        return proc

    def start_controller(self, name: str = "controller") -> Proc:
        spec, container = self.pod("controller")
        args = self.mount("controller", spec, container)
        # ate-api (the simulator) accepts the token the projected volume now holds
        self.stack.ate_api_token_file.write_text(self.ate_api_token())
        sub = self.stack.procs["substrate"].ready
        self.started["controller"] = time.time()
        proc = start(
            name,
            [
                *CLI,
                *args,
                f"--kubeconfig={self.sa_kubeconfig(spec['serviceAccountName'])}",
                "--metrics-bind=127.0.0.1:0",
                "--health-bind=127.0.0.1:0",
                "--gateway-bind=127.0.0.1:0",
                f"--substrate-ate-api-endpoint={sub['grpc']}",
                f"--substrate-ate-api-ca-file={self.stack.substrate_ca}",
                f"--substrate-atenet-router-url={sub['router']}",
                *FAST_CONTROLLER_FLAGS,
                "--lease-duration=4s",
                "--renew-deadline=3s",
                "--retry-period=500ms",
            ],
            self.stack.workdir,
        )
        self.stack.procs["controller"] = proc
        return proc

    def ate_api_token(self) -> str:
        """The token the controller's projected volume holds (what ate-api checks)."""
        path = self.stack.workdir / "controller-volumes" / "ate-api-token" / "token"
        return path.read_text().strip()

    # -- what the apiserver saw -------------------------------------------------------------
    def audit(self, user: str, since: float = 0.0) -> list[dict[str, Any]]:
        """``user``'s completed requests (audit events) received at or after ``since``."""
        out = []
        for line in self.plane.audit_log.read_text().splitlines():
            event = json.loads(line)
            # a watch is counted when it starts (most never complete within the test)
            stage = "ResponseStarted" if event.get("verb") == "watch" else "ResponseComplete"
            if event.get("stage") != stage or event["user"]["username"] != user:
                continue
            if _epoch(event["requestReceivedTimestamp"]) >= since:
                out.append(event)
        return out

    def ca_bundles(self) -> list[str]:
        return [
            hook.get("clientConfig", {}).get("caBundle", "")
            for kind in HOOK_KINDS
            for hook in self.get(kind, FULLNAME)["webhooks"]
        ]


def _epoch(timestamp: str) -> float:
    """An audit timestamp (RFC 3339, UTC, microseconds) as epoch seconds."""
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def denials(events: list[dict[str, Any]]) -> list[str]:
    """Refused requests (401/403) as ``verb group/resource[/sub] ns/name: reason``."""
    out = []
    for e in events:
        code = (e.get("responseStatus") or {}).get("code", 0)
        if code in (401, 403):
            ref = e.get("objectRef") or {}
            what = "/".join(
                p
                for p in (ref.get("apiGroup", ""), ref.get("resource"), ref.get("subresource"))
                if p
            )
            where = "/".join(p for p in (ref.get("namespace"), ref.get("name")) if p)
            out.append(f"{e['verb']} {what} {where}: {code}")
    return out


def used(events: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    """(apiGroup, resource[/subresource], verb) of the successful resource requests."""
    out = set()
    for e in events:
        ref = e.get("objectRef") or {}
        if not ref.get("resource") or (e.get("responseStatus") or {}).get("code", 0) >= 300:
            continue
        resource = ref["resource"] + (f"/{ref['subresource']}" if ref.get("subresource") else "")
        out.add((ref.get("apiGroup", ""), resource, e["verb"]))
    return out


def granted(rules: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    return {
        (group, resource, verb)
        for rule in rules
        for group in rule.get("apiGroups", [])
        for resource in rule.get("resources", [])
        for verb in rule.get("verbs", [])
    }


@pytest.fixture(scope="module")
def chart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chart]:
    """A control plane of this module's own, the chart installed, the simulator, the webhook
    and the controller running as the chart's ServiceAccounts."""
    workdir = tmp_path_factory.mktemp("chart-real")
    plane = ControlPlane(
        workdir / "plane",
        bin_dir_or_skip(),
        apiserver_args=["--enable-admission-plugins=OwnerReferencesPermissionEnforcement"],
        audit_users=[sa_user(CONTROLLER_SA), sa_user(WEBHOOK_SA)],
    )
    plane.up()
    stack = LocalStack(workdir / "stack", kube="real", namespace=AGENTS, webhook=False)
    stack.workdir.mkdir()
    shutil.copy(plane.kubeconfig_path(), stack.kubeconfig)
    c = Chart(plane, stack, f"https://127.0.0.1:{free_port()}")
    try:
        # Agent Substrate and kagent's ModelConfig are prerequisites (docs/install.md).
        c.kubectl("apply", "-f", str(ROOT / "devstack" / "crds"))
        c.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
        c.helm(
            "install", RELEASE, str(CHART), "-n", RELEASE_NS, "--create-namespace", values=VALUES
        )
        c.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
        c.kubectl("create", "namespace", AGENTS)
        c.start_webhook()
        stack.wait(
            "caBundle patched by the webhook",
            lambda: all(c.ca_bundles()) and c.ca_bundles(),
            timeout=30,
        )
        spec, container = c.pod("controller")
        c.mount("controller", spec, container)
        stack.ate_api_token = c.ate_api_token()
        stack.start_substrate()
        c.start_controller()
        yield c
    finally:
        stack.down()
        plane.down()


def owned_by(chart: Chart, resource: str, uid: str) -> list[str]:
    """Names of ``resource`` objects in AGENTS with an ownerReference to ``uid``."""
    items = chart.get(resource, "-n", AGENTS)["items"]
    return [
        i["metadata"]["name"]
        for i in items
        if any(r.get("uid") == uid for r in i["metadata"].get("ownerReferences") or [])
    ]


def harness_flow(chart: Chart, name: str) -> None:
    """AgentHarness -> Ready (admitted and mutated by the webhook), update, delete: the
    finalizer and garbage collection leave no ActorTemplate, no owned Secret, no actor and no
    golden actor."""
    stack = chart.stack
    apply(stack, harness(name))
    obj = stack.wait(f"{name} Ready", lambda: harness_ready(stack, name), timeout=90)
    uid = obj["metadata"]["uid"]
    assert obj["metadata"]["finalizers"] == ["kagent.dev/agent-harness-backend-cleanup"]
    location = obj["spec"]["substrate"]["snapshotsConfig"]["location"]
    assert location == f"gs://ate-snapshots/{AGENTS}/{name}"  # pinned by the webhook
    assert owned_by(chart, "actortemplates.ate.dev", uid) == [name]
    assert owned_by(chart, "secrets", uid), "no owned Secret for the inline gateway token"
    template = stack.get_json("actortemplates.ate.dev", name, "-n", AGENTS)
    assert f"tok-{name}" not in json.dumps(template)
    (ref,) = template["metadata"]["ownerReferences"]
    assert ref["blockOwnerDeletion"] is True  # allowed by the chart's <kind>/finalizers grant
    before = template["metadata"]["generation"]

    changed = harness(name, env=[{"name": "LOG_LEVEL", "value": "debug"}])
    changed["spec"]["substrate"]["gatewayToken"] = f"tok2-{name}"  # owned Secret replaced
    apply(stack, changed)
    updated = stack.wait(
        "template updated",
        lambda: (
            (t := stack.get_json("actortemplates.ate.dev", name, "-n", AGENTS))["metadata"][
                "generation"
            ]
            > before
            and t
        ),
    )
    assert {"name": "LOG_LEVEL", "value": "debug"} in updated["spec"]["containers"][0]["env"]
    again = stack.wait(f"{name} Ready again", lambda: harness_ready(stack, name), timeout=90)
    golden = (again.get("status") or {}).get("goldenActorID") or updated["status"].get(
        "goldenActorID"
    )
    actor_ids = {a["actor_id"] for a in actors(stack)}
    assert f"ahr-{AGENTS}-{name}" in actor_ids

    stack.kubectl("delete", "ahr", name, "-n", AGENTS, "--wait=false")
    stack.wait(f"{name} deleted", lambda: gone(stack, name), timeout=60)
    stack.wait(
        "ActorTemplate and owned Secret collected",
        lambda: (
            not owned_by(chart, "actortemplates.ate.dev", uid)
            and not owned_by(chart, "secrets", uid)
        ),
        timeout=GC_TIMEOUT,
    )
    left = {a["actor_id"] for a in actors(stack)}
    assert f"ahr-{AGENTS}-{name}" not in left
    assert not golden or golden not in left


def test_install_creates_what_install_md_lists(chart: Chart) -> None:
    ns = ("-n", RELEASE_NS)
    for kind, name in [
        ("deployment", f"{FULLNAME}-webhook"),
        ("deployment", f"{FULLNAME}-controller"),
        ("serviceaccount", WEBHOOK_SA),
        ("serviceaccount", CONTROLLER_SA),
        ("service", f"{FULLNAME}-webhook"),
        ("service", f"{FULLNAME}-controller-metrics"),
        ("service", f"{FULLNAME}-gateway"),
        ("configmap", f"{FULLNAME}-crds"),
        ("workerpools.ate.dev", POOL),
    ]:
        assert chart.exists(kind, name, *ns), (kind, name)
    for crd in ("agentharnesses.kagent.dev", "sandboxagents.kagent.dev"):
        assert chart.exists("crd", crd)  # from the chart's crds/ on first install

    # url form (post-renderer), caBundle patched in by the webhook itself (self-signed mode)
    ca = (chart.stack.workdir / "webhook-volumes" / "certs" / "ca.crt").read_bytes()
    for kind, path in zip(HOOK_KINDS, ("/validate", "/mutate"), strict=True):
        (hook,) = chart.get(kind, FULLNAME)["webhooks"]
        assert hook["clientConfig"]["url"] == chart.webhook_url + path
        assert ca in base64.b64decode(hook["clientConfig"]["caBundle"])
    patches = [
        e["objectRef"]["resource"]
        for e in chart.audit(sa_user(WEBHOOK_SA))
        if e["verb"] == "patch" and e["responseStatus"]["code"] == 200
    ]
    assert sorted(patches) == sorted(HOOK_KINDS)  # each patched once, as the webhook's SA


def test_harness_ready_update_delete_leaves_nothing(chart: Chart) -> None:
    harness_flow(chart, "alpha")


def test_cleanup_skipped_is_an_event(chart: Chart) -> None:
    """The controller's Events (events.k8s.io) are written with its chart RBAC."""
    stack = chart.stack
    body = harness(KEPT)
    body["metadata"]["annotations"] = {"kagent.dev/skip-substrate-cleanup": "true"}
    apply(stack, body)
    stack.wait(f"{KEPT} Ready", lambda: harness_ready(stack, KEPT), timeout=90)
    stack.kubectl("delete", "ahr", KEPT, "-n", AGENTS, "--wait=false")
    stack.wait(f"{KEPT} deleted", lambda: gone(stack, KEPT), timeout=60)
    (event,) = stack.wait(
        "event CleanupSkipped",
        lambda: [
            e
            for e in chart.get("events.events.k8s.io", "-n", AGENTS)["items"]
            if (e.get("regarding") or {}).get("name") == KEPT and e["reason"] == "CleanupSkipped"
        ],
    )
    assert event["type"] == "Warning"
    assert f"ahr-{AGENTS}-{KEPT}" in {a["actor_id"] for a in actors(stack)}  # left, as asked


def test_sandboxagent_session_through_the_gateway(chart: Chart) -> None:
    stack = chart.stack
    for name in (
        "workerpool.yaml",
        "sandboxagent-go-substrate.yaml",
        "sandboxagent-minimal-substrate.yaml",
    ):
        stack.kubectl("apply", "-n", AGENTS, "-f", str(EXAMPLES / name))
    for agent in ("hello-agent", "runbook-helper"):  # default pool elsewhere / own pool
        stack.wait(f"{agent} Ready", lambda a=agent: agent_ready(stack, a), timeout=90)
    uid = stack.get_json("sandboxagents", "hello-agent", "-n", AGENTS)["metadata"]["uid"]
    assert owned_by(chart, "actortemplates.ate.dev", uid)

    ok, denied = gateway_caller_tokens(stack, AGENTS)
    # TokenReview and SubjectAccessReview made with the controller's chart ClusterRole
    for i in range(3):
        status, answer = send(stack, "hello-agent", "s-chart", f"m{i}", token=ok)
        assert status == 200 and "error" not in answer, answer
    assert send(stack, "hello-agent", "s-denied", "hi", token=denied)[0] == 403
    assert send(stack, "hello-agent", "s-forged", "hi", token=ok[:-4] + "AAAA")[0] == 401
    template = f"{AGENTS}/asr-hello-agent"
    ids = {a["actor_id"] for a in actors(stack) if a["template"] == template}
    assert f"asr-{AGENTS}-hello-agent-s-chart" in ids

    stack.kubectl("delete", "sandboxagent", "hello-agent", "-n", AGENTS, "--wait=false")
    stack.wait(
        "its actors gone",
        lambda: not [a for a in actors(stack) if a["template"] == template],
        timeout=60,
    )
    stack.wait(
        "its ActorTemplate collected",
        lambda: not owned_by(chart, "actortemplates.ate.dev", uid),
        timeout=GC_TIMEOUT,
    )


def test_leader_lease_in_the_release_namespace(chart: Chart) -> None:
    identity = chart.stack.procs["controller"].ready["identity"]
    lease = chart.stack.wait(
        "the controller holds its Lease",
        lambda: (
            (obj := chart.get("leases.coordination.k8s.io", LEASE, "-n", RELEASE_NS))["spec"].get(
                "holderIdentity"
            )
            == identity
            and obj
        ),
    )
    assert lease["metadata"]["namespace"] == RELEASE_NS


def controller_grants(chart: Chart) -> set[tuple[str, str, str]]:
    """What the chart's controller roles grant (cluster-wide mode), as installed."""
    rules = [
        *chart.get("clusterrole", f"{FULLNAME}-controller")["rules"],
        *chart.get("clusterrole", f"{FULLNAME}-controller-auth")["rules"],
        *chart.get("role", f"{FULLNAME}-controller-leader", "-n", RELEASE_NS)["rules"],
    ]
    return granted(rules)


NOT_REQUESTED_HERE = {
    # live GETs of what the watch caches hold: only for a namespace no synced watcher covers
    # (before the caches sync, or the default pool's namespace with rbac.namespaces)
    ("", "configmaps", "get"),
    ("ate.dev", "workerpools", "get"),
    ("kagent.dev", "modelconfigs", "get"),
    # an Event that repeats is patched (its series); every Event here happened once
    ("events.k8s.io", "events", "patch"),
    # no request: the OwnerReferencesPermissionEnforcement admission plugin checks it when the
    # controller sets blockOwnerDeletion on the ActorTemplates and Secrets it owns
    ("kagent.dev", "agentharnesses/finalizers", "update"),
    ("kagent.dev", "sandboxagents/finalizers", "update"),
}


def test_least_privilege_proven_by_use(chart: Chart) -> None:
    """Nothing either ServiceAccount asked for was refused, and every grant of the chart was
    used, except the few listed in NOT_REQUESTED_HERE (each with the reason it exists)."""
    for sa in (CONTROLLER_SA, WEBHOOK_SA):
        events = chart.audit(sa_user(sa))
        assert events, f"no requests of {sa} audited"
        assert denials(events) == [], sa
    webhook = used(chart.audit(sa_user(WEBHOOK_SA)))
    assert webhook == {
        ("admissionregistration.k8s.io", kind, verb)
        for kind in HOOK_KINDS
        for verb in ("get", "patch")
    }
    ctrl = used(chart.audit(sa_user(CONTROLLER_SA)))
    grants = controller_grants(chart)
    assert ctrl <= grants
    assert grants - ctrl == NOT_REQUESTED_HERE


def pod_template(chart: Chart, component: str) -> Any:
    return chart.get("deployment", f"{FULLNAME}-{component}", "-n", RELEASE_NS)["spec"]["template"]


def test_upgrade_to_per_namespace_rbac(chart: Chart) -> None:
    """``helm upgrade`` (docs/install.md, Upgrade): Helm leaves the CRDs alone, the caBundle
    the webhook patched survives (it is in no manifest), a pod template that changed rolls (here
    the controller's, for ``--namespace=agents``), and the controller works on the Roles of
    ``rbac.namespaces`` alone: a harness goes through the whole flow again."""
    crds = {
        crd: chart.get("crd", crd)["metadata"]["resourceVersion"]
        for crd in ("agentharnesses.kagent.dev", "sandboxagents.kagent.dev")
    }
    bundles = chart.ca_bundles()
    templates = {c: pod_template(chart, c) for c in ("webhook", "controller")}

    chart.helm("upgrade", RELEASE, str(CHART), "-n", RELEASE_NS, values=NAMESPACED_VALUES)

    assert {c: chart.get("crd", c)["metadata"]["resourceVersion"] for c in crds} == crds
    assert chart.ca_bundles() == bundles
    for kind, path in zip(HOOK_KINDS, ("/validate", "/mutate"), strict=True):
        (hook,) = chart.get(kind, FULLNAME)["webhooks"]
        assert hook["clientConfig"]["url"] == chart.webhook_url + path
    assert not chart.exists("clusterrole", f"{FULLNAME}-controller")
    assert chart.exists("role", f"{FULLNAME}-controller", "-n", AGENTS)
    assert chart.exists("role", f"{FULLNAME}-controller-workerpools", "-n", RELEASE_NS)

    # The Deployment controller's part: roll what changed (no kubelet, so the test does it).
    rolled = [c for c in templates if pod_template(chart, c) != templates[c]]
    assert rolled == ["controller"]
    chart.stack.procs.pop("controller").stop()
    proc = chart.start_controller("controller-upgraded")
    assert f"--namespace={AGENTS}" in proc.popen.args
    harness_flow(chart, "beta")
    events = chart.audit(sa_user(CONTROLLER_SA), since=chart.started["controller"])
    assert events and denials(events) == []


def test_uninstall_leaves_what_install_md_says(chart: Chart) -> None:
    """docs/install.md, Uninstall: delete our objects while the controller runs, then
    ``helm uninstall`` removes every object of the release and leaves the CRDs."""
    manifest = [
        d for d in yaml.safe_load_all(chart.helm("get", "manifest", RELEASE, "-n", RELEASE_NS)) if d
    ]
    assert len(manifest) > 10
    chart.kubectl(
        "delete", "agentharnesses,sandboxagents", "--all", "-A", "--wait", "--timeout=90s"
    )
    chart.stack.wait(
        "every ActorTemplate collected",
        lambda: not chart.get("actortemplates.ate.dev", "-n", AGENTS)["items"],
        timeout=GC_TIMEOUT,
    )
    left = [a["actor_id"] for a in actors(chart.stack) if a["template"] != f"{AGENTS}/{KEPT}"]
    assert left == []
    # helm uninstall deletes the Deployments: the pods stop.
    for name in ("controller", "webhook"):
        chart.stack.procs.pop(name).stop()
    chart.helm("uninstall", RELEASE, "-n", RELEASE_NS, "--wait", "--timeout=90s")

    left = []
    for obj in manifest:
        ns = obj["metadata"].get("namespace")
        where = ["-n", ns] if ns else []
        api = obj["apiVersion"].split("/")[0] if "/" in obj["apiVersion"] else ""
        kind = f"{obj['kind'].lower()}.{api}" if api else obj["kind"].lower()
        if chart.exists(kind, obj["metadata"]["name"], *where):
            left.append(f"{obj['kind']} {obj['metadata']['name']}")
    assert left == []
    labelled = chart.kubectl(
        "get",
        "all,configmaps,secrets,serviceaccounts,roles,rolebindings,clusterroles,"
        "clusterrolebindings,validatingwebhookconfigurations,mutatingwebhookconfigurations,"
        "workerpools.ate.dev,leases.coordination.k8s.io",
        "-A",
        "-l",
        f"app.kubernetes.io/instance={RELEASE}",
        "-o",
        "name",
    ).stdout.split()
    assert labelled == []
    for crd in ("agentharnesses.kagent.dev", "sandboxagents.kagent.dev"):
        assert chart.exists("crd", crd)  # Helm never deletes crds/
    # Not Helm's: the controller's leader Lease stays in the release namespace.
    assert chart.exists("leases.coordination.k8s.io", LEASE, "-n", RELEASE_NS)
    assert chart.exists("namespace", RELEASE_NS)
    assert not chart.get("secrets", "-n", RELEASE_NS, "-l", "owner=helm")["items"]
