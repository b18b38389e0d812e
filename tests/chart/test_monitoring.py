"""The opt-in Grafana dashboard and PrometheusRule: they render, the rules pass
`promtool check rules`, every alert links its runbook, and the dashboard JSON is sound."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.chart.monitoring import (
    DASHBOARD,
    ON,
    alerts,
    dashboard,
    dashboard_exprs,
    metric_names,
    panels,
    prometheus_rule,
)
from tests.chart.render import FULLNAME, NAMESPACE, REPO, find, one, render


def promtool() -> str:
    """promtool from `make tools`; fails under CI=true when missing, else skips."""
    path = shutil.which("promtool")
    if path is None:
        message = (
            "promtool is missing: run `make tools` (apt-get install prometheus, Debian's package "
            "that ships promtool; needs root or sudo)"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


def test_off_by_default(rendered: Any) -> None:
    objs = rendered("default")
    assert find(objs, "PrometheusRule") == []
    assert [o for o in find(objs, "ConfigMap") if "dashboard" in o["metadata"]["name"]] == []


def test_rules_pass_promtool(tmp_path: Path) -> None:
    tool = promtool()
    rule = prometheus_rule()
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["metadata"]["namespace"] == NAMESPACE
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(rule["spec"]))
    proc = subprocess.run(
        [tool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"SUCCESS: {len(alerts(rule))} rules found" in proc.stdout


def test_every_alert_links_its_runbook_section() -> None:
    rule = prometheus_rule({"prometheusRule": {"enabled": True, "runbookBaseURL": "https://d/i"}})
    docs = (REPO / "docs" / "install.md").read_text()
    runbooks = docs.split("### Runbooks", 1)[1].split("\n## ", 1)[0]
    names = [a["alert"] for a in alerts(rule)]
    assert len(names) == len(set(names)) >= 8
    for a in alerts(rule):
        assert a["annotations"]["runbook_url"] == f"https://d/i#{a['alert'].lower()}"
        assert f"\n#### {a['alert']}\n" in runbooks, f"add a runbook section for {a['alert']}"
        assert a["labels"]["severity"] in ("warning", "critical")
        assert a["annotations"]["summary"] and a["annotations"]["description"]
    documented = re.findall(r"^#### (\w+)$", runbooks, re.M)
    assert sorted(documented) == sorted(names), "a runbook section without its alert"


def test_thresholds_follow_the_values() -> None:
    rule = prometheus_rule(
        {
            "webhook": {"timeoutSeconds": 20, "requestTimeout": 15},
            "controller": {"deleteTimeout": "12m"},
            "prometheusRule": {"enabled": True, "webhookLatencyRatio": 0.6, "certExpiryDays": 3},
        }
    )
    by_name = {a["alert"]: a for a in alerts(rule)}
    assert by_name["KagentSubstrateWebhookSlow"]["expr"].endswith("> 12")
    stuck = by_name["KagentSubstrateDeletionStuck"]
    assert stuck["expr"].startswith("max by (kind) (kagent_substrate_oldest_deletion_age_seconds{")
    assert stuck["expr"].endswith("> 720") and stuck["for"] == "5m"
    assert "< 3 * 86400" in by_name["KagentSubstrateCertificateExpiry"]["expr"]
    for a in alerts(rule):
        assert f'namespace="{NAMESPACE}"' in a["expr"], a["alert"]
    down = by_name["KagentSubstrateWebhookDown"]["expr"]
    assert f'job="{FULLNAME}-webhook"' in down
    args = one(
        render({"controller": {"deleteTimeout": "12m"}}), "Deployment", f"{FULLNAME}-controller"
    )
    container = args["spec"]["template"]["spec"]["containers"][0]
    assert "--delete-timeout=12m" in container["args"]


@pytest.mark.parametrize(
    ("timeout", "seconds"), [("5m", "300"), ("1h30m", "5400"), ("90s", "90"), ("1500ms", "1.5")]
)
def test_deletion_alert_threshold_is_the_delete_timeout_in_seconds(
    timeout: str, seconds: str
) -> None:
    rule = prometheus_rule({"controller": {"deleteTimeout": timeout}})
    stuck = next(a for a in alerts(rule) if a["alert"] == "KagentSubstrateDeletionStuck")
    assert stuck["expr"].endswith(f"> {seconds}")
    assert f"({timeout})" in stuck["annotations"]["description"]


def test_dashboard_configmap_carries_the_file_and_the_sidecar_label() -> None:
    values = {
        "grafanaDashboard": {
            "enabled": True,
            "namespace": "monitoring",
            "labelKey": "dash",
            "labelValue": "yes",
            "annotations": {"grafana_folder": "kagent"},
        }
    }
    cm = one(render({**ON, **values}), "ConfigMap", f"{FULLNAME}-dashboard")
    assert cm["metadata"]["namespace"] == "monitoring"
    assert cm["metadata"]["labels"]["dash"] == "yes"
    assert cm["metadata"]["annotations"] == {"grafana_folder": "kagent"}
    assert json.loads(cm["data"]["kagent-substrate.json"]) == json.loads(DASHBOARD.read_text())
    default = one(render(ON), "ConfigMap", f"{FULLNAME}-dashboard")
    assert default["metadata"]["labels"]["grafana_dashboard"] == "1"


def test_dashboard_json_is_sound() -> None:
    dash = dashboard()
    ids = [p["id"] for p in panels(dash)]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for panel in panels(dash):
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], f"panel {panel['title']!r} has no query"
        for target in panel["targets"]:
            assert target["expr"].strip(), f"empty query in {panel['title']!r}"
            assert target.get("datasource", {}).get("uid", "${datasource}") == "${datasource}"
            assert 'namespace=~"$namespace"' in target["expr"], panel["title"]
    titles = " ".join(p["title"] for p in panels(dash)).lower()
    for topic in ("admission", "denials", "reconcile", "queue", "time to ready", "ate-api"):
        assert topic in titles or topic in json.dumps(dash).lower(), topic
    used = set().union(*(metric_names(e) for e in dashboard_exprs(dash)))
    assert {"process_resident_memory_bytes", "kagent_substrate_sessions_active"} <= used


def test_metric_names_of_promql() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (le, method) (rate(a_bucket{code!="OK", x=~"a|b"}[5m])))'
        ' > 0.5 * 86400 and on (pod) b_total offset 1h or absent(up{job="x{y}"} == 1)'
        " - time() + changes(c[$__rate_interval]) unless 1e3"
    )
    assert metric_names(expr) == {"a_bucket", "b_total", "up", "c"}
