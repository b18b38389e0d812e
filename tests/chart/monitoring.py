"""The chart's dashboard and alerts as data: their PromQL expressions and the metric names in them.

`tests/chart/test_monitoring.py` lints them; `tests/e2e/monitoring/` checks every metric name
against a real scrape of the webhook and the controller.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.chart.render import CHART, find, render

DASHBOARD = CHART / "dashboards" / "kagent-substrate.json"
ON: dict[str, Any] = {"grafanaDashboard": {"enabled": True}, "prometheusRule": {"enabled": True}}
"""Values that turn both on."""

SYNTHETIC = {"up": "Prometheus writes it for every scrape target; no process exports it"}
"""Series a scrape never contains, with why the dashboard or an alert may still use them."""

_KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or"}
    | {"unless", "offset", "inf", "nan", "Inf", "NaN"}
)
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_NAME = re.compile(r"(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*")


def dashboard() -> dict[str, Any]:
    """The dashboard JSON shipped in the chart."""
    data: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return data


def panels(dash: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel, rows' nested panels included."""
    out = []
    for panel in dash.get("panels", []):
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def dashboard_exprs(dash: dict[str, Any]) -> list[str]:
    """The PromQL of every panel target."""
    return [str(t.get("expr", "")) for p in panels(dash) for t in p.get("targets", [])]


def prometheus_rule(values: dict[str, Any] | None = None) -> dict[str, Any]:
    """The rendered PrometheusRule with ``values`` on top of `ON`."""
    rules = find(render({**ON, **(values or {})}), "PrometheusRule")
    assert len(rules) == 1, f"expected one PrometheusRule, got {len(rules)}"
    return rules[0]


def alerts(rule: dict[str, Any]) -> list[dict[str, Any]]:
    """Every alerting rule of a PrometheusRule."""
    return [r for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r]


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression selects (functions, keywords, labels and strings aside)."""
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = _GROUPING.sub(" ", text)
    text = re.sub(r"\$\{?\w+\}?", " ", text)
    names = set()
    for m in _NAME.finditer(text):
        if m.group() in _KEYWORDS or text[m.end() :].lstrip().startswith("("):
            continue
        names.add(m.group())
    return names
