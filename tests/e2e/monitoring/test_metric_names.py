"""Every metric the chart's dashboard and alerts use is exported: the webhook and the controller
run as real processes on the local stack, an admission (allowed and denied) and a reconcile
happen, a harness turns Ready and is deleted, then both ``/metrics`` are scraped and
parsed."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from devstack.stack import LocalStack
from shared import bundled
from tests.chart.monitoring import (
    SYNTHETIC,
    alerts,
    dashboard,
    dashboard_exprs,
    metric_names,
    prometheus_rule,
)
from tests.e2e.objects import POOL, harness

pytestmark = pytest.mark.e2e

SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    s = LocalStack(tmp_path_factory.mktemp("monitoring"), kube="standin", namespace="mon")
    s.up()
    try:
        yield s
    finally:
        s.down()


def scrape(url: str) -> dict[str, Any]:
    """Metric families of one ``/metrics`` by name."""
    with urllib.request.urlopen(url.rstrip("/") + "/metrics", timeout=10) as resp:
        text = resp.read().decode()
    return {f.name: f for f in text_string_to_metric_families(text)}


def declared(families: dict[str, Any]) -> set[str]:
    """Every series name the families can expose (a labelled counter may have no child yet)."""
    names = set()
    for family in families.values():
        names.update(family.name + s for s in SUFFIXES.get(family.type, ("",)))
        names.update(sample.name for sample in family.samples)
    return names


def samples(families: dict[str, Any], name: str) -> list[Any]:
    return [s for f in families.values() for s in f.samples if s.name == name]


def value(families: dict[str, Any], name: str, labels: dict[str, str]) -> float | None:
    """The value of the one sample ``name`` whose labels include ``labels``."""
    found = [s.value for s in samples(families, name) if labels.items() <= s.labels.items()]
    return found[0] if len(found) == 1 else None


def test_dashboard_and_alert_metrics_exist_in_a_real_scrape(stack: LocalStack) -> None:
    ns = stack.namespace
    stack.kubectl("apply", "-n", ns, "-f", "-", input_text=json.dumps(POOL))
    stack.kubectl("apply", "-n", ns, "-f", "-", input_text=json.dumps(harness("watched")))
    # A webhook-only rule (the API server itself refuses what the CRD's own rules catch).
    examples = bundled.examples_dir()
    assert examples is not None
    invalid = examples / "invalid" / "agentharness-configmap-credential-on-substrate.yaml"
    denied = stack.kubectl("apply", "-n", ns, "-f", str(invalid), check=False)
    assert denied.returncode != 0, denied.stdout

    def ready() -> bool:
        obj = stack.get_json("ahr", "watched", "-n", ns)
        conds = {c["type"]: c["status"] for c in (obj.get("status") or {}).get("conditions", [])}
        return conds.get("Ready") == "True"

    stack.wait("harness Ready", ready, timeout=90)
    # One deletion through the finalizer (of the Ready harness: deleting one still being created
    # can hit the simulator's SuspendActor INTERNAL); the deletion gauges drop back to 0.
    stack.kubectl("delete", "ahr", "watched", "-n", ns, "--wait=true", timeout=90)
    metrics_url = stack.procs["controller"].ready["metrics"]
    kind = {"kind": "AgentHarness"}

    def none_pending() -> dict[str, Any] | None:
        families = scrape(metrics_url)
        pending = value(families, "kagent_substrate_deletions_pending", kind)
        oldest = value(families, "kagent_substrate_oldest_deletion_age_seconds", kind)
        return families if (pending, oldest) == (0, 0) else None

    controller = stack.wait("no AgentHarness deletion pending", none_pending, timeout=30)
    webhook = scrape(stack.procs["webhook"].ready["metrics"])

    used: dict[str, str] = {}
    for expr in dashboard_exprs(dashboard()):
        used.update(dict.fromkeys(metric_names(expr), "dashboard"))
    for alert in alerts(prometheus_rule()):
        used.update(dict.fromkeys(metric_names(alert["expr"]), alert["alert"]))
    assert len(used) >= 15, sorted(used)
    exported = declared(webhook) | declared(controller)
    missing = {n: where for n, where in used.items() if n not in exported and n not in SYNTHETIC}
    assert missing == {}, f"used but not exported: {missing}"

    # The series the main panels and alerts read have samples after one admission and reconcile.
    for families, name in [
        (webhook, "kagent_substrate_admission_requests_total"),
        (webhook, "kagent_substrate_admission_duration_seconds_bucket"),
        (webhook, "kagent_substrate_admission_denials_total"),
        (webhook, "kagent_substrate_cert_expiry_timestamp_seconds"),
        (webhook, "process_resident_memory_bytes"),
        (webhook, "process_start_time_seconds"),
        (controller, "kagent_substrate_reconcile_total"),
        (controller, "kagent_substrate_reconcile_duration_seconds_bucket"),
        (controller, "kagent_substrate_workqueue_depth"),
        (controller, "kagent_substrate_ateapi_requests_total"),
        (controller, "kagent_substrate_ateapi_request_duration_seconds_bucket"),
        (controller, "kagent_substrate_sessions_active"),
        (controller, "kagent_substrate_time_to_ready_seconds_bucket"),
        (controller, "kagent_substrate_deletions_pending"),
        (controller, "kagent_substrate_oldest_deletion_age_seconds"),
    ]:
        assert samples(families, name), f"no {name} series after an admission and a reconcile"
    # The turn to Ready of "watched" was observed (once per transition: see the integration test).
    ready_count = value(controller, "kagent_substrate_time_to_ready_seconds_count", kind)
    assert ready_count is not None and ready_count >= 1, ready_count
    rules = {s.labels["rule"] for s in samples(webhook, "kagent_substrate_admission_denials_total")}
    assert rules == {"webhook:W1"}, rules
