"""Webhook metrics keep bounded labels: denial rule ids are capped in number and length."""

from __future__ import annotations

from webhook.metrics import RULE_LABELS, RULE_LENGTH, WebhookMetrics


def test_denials_count_each_cited_rule_once_and_cap_the_label_values() -> None:
    m = WebhookMetrics()
    m.denied("AgentHarness", ("webhook:W1", "webhook:W1", "schema:required"))
    m.denied("Unknown", ("webhook:W2",))
    value = m.registry.get_sample_value
    name = "kagent_substrate_admission_denials_total"
    assert value(name, {"kind": "AgentHarness", "rule": "webhook:W1"}) == 1
    assert value(name, {"kind": "AgentHarness", "rule": "schema:required"}) == 1
    assert value(name, {"kind": "other", "rule": "webhook:W2"}) == 1
    for i in range(RULE_LABELS + 5):
        m.denied("SandboxAgent", (f"cel:spec.x{i}#0" + "y" * RULE_LENGTH,))
    rules = {
        s.labels["rule"]
        for family in m.registry.collect()
        if family.name == "kagent_substrate_admission_denials"
        for s in family.samples
        if s.name.endswith("_total")
    }
    assert len(rules) == RULE_LABELS + 1 and "other" in rules
    assert max(len(r) for r in rules) == RULE_LENGTH
