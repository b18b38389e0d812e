"""The rule catalog of a `check` run: a stable, unique id, a description and help for every rule
a finding can come from, per kind (SARIF ``tool.driver.rules``, the ``github`` output).

Ids are derived, never numbered by position: ``AgentHarness/spec.channels[*].telegram/cel-<8 hex
of the rule>`` for a CEL rule (its kind, its place in the schema and its text), ``AgentHarness/
schema:required`` for a schema constraint, ``AgentHarness/webhook:W5`` for a webhook rule. The
descriptions of CEL rules are their CRD messages and rules, read from the CRDs (never restated).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final

from shared.policy.admission_rules import DESCRIPTIONS
from shared.policy.engine import PolicyEngine

#: rule id -> (short description, help) of the rules that are not CEL rules of a CRD
GENERIC: Final = {
    "schema:type": ("Wrong type", "Give the field the type the CRD schema says."),
    "schema:required": ("Required field missing", "Add the field; the CRD schema requires it."),
    "schema:enum": ("Value not allowed", "Use one of the values the CRD schema lists."),
    "schema:pattern": ("Value does not match the pattern", "See the pattern in the message."),
    "schema:format": ("Value is not in the required format", "See the format in the message."),
    "schema:minLength": ("Value too short", "See the minimum length in the message."),
    "schema:maxLength": ("Value too long", "See the maximum length in the message."),
    "schema:minItems": ("Too few items", "See the minimum in the message."),
    "schema:maxItems": ("Too many items", "See the maximum in the message."),
    "schema:minProperties": ("Too few properties", "See the minimum in the message."),
    "schema:maxProperties": ("Too many properties", "See the maximum in the message."),
    "schema:minimum": ("Number too small", "See the minimum in the message."),
    "schema:maximum": ("Number too large", "See the maximum in the message."),
    "schema:multipleOf": ("Number is not a multiple", "See the divisor in the message."),
    "schema:list-map-keys": ("Duplicate list entry", "List-map keys must be unique: rename one."),
    "schema:list-set": ("Duplicate list entry", "Set items must be unique: remove one."),
    "schema:anyOf": ("No alternative of anyOf matches", "See the message."),
    "schema:oneOf": ("Not exactly one alternative of oneOf matches", "See the message."),
    "schema:not": ("Value matches a forbidden schema", "See the message."),
    "schema:version": (
        "API version not served",
        "Use the apiVersion the message names; the CRD does not serve this one.",
    ),
    "schema:unknown-field": (
        "Unknown field",
        "The CRD schema has no such field: fix its spelling or remove it "
        "(--field-validation Warn/Ignore to accept and drop it, as kubectl --validate does).",
    ),
    "input:duplicate-field": (
        "Field given twice",
        "A key appears twice in the same mapping; the last value wins. Remove one.",
    ),
    "input:kind": (
        "Kind or group not served",
        "No CRD serves this kind: fix the spelling (the message names what is served) or pass "
        "--skip KIND when another operator serves it.",
    ),
    "input:depth": ("Object nested too deeply", "Flatten the object."),
    "input": ("Unreadable input", "Fix the file: the message says what could not be read."),
    "schema:type-blocks-cel": (
        "CEL rules not checked",
        "The object has schema errors that stop CEL validation; fix those first.",
    ),
    "metadata": (
        "Invalid metadata",
        "metadata.name must be a DNS-1123 subdomain; label and annotation keys and values "
        "must follow Kubernetes syntax (see the message).",
    ),
    "webhook:unknown-kind": ("Kind not governed", "Not checked by kagent-substrate."),
}


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """One entry of the catalog."""

    id: str
    short: str
    full: str
    help: str


def _cel_id(kind: str, rule_id: str, source: str) -> str:
    where = rule_id.removeprefix("cel:").rsplit("#", 1)[0]
    digest = hashlib.sha256(" ".join(source.split()).encode()).hexdigest()[:8]
    return f"{kind}/{where}/cel-{digest}"


class RuleCatalog:
    """Rule metadata per (kind, engine rule id), built once from the engine's CRDs."""

    def __init__(self, engine: PolicyEngine | None = None) -> None:
        self._rules: dict[tuple[str, str], RuleInfo] = {}
        for validator in engine.validators if engine is not None else ():
            for rule in validator.cel_rules():
                source = rule.program.source.strip()
                message = rule.fallback_message()
                self._rules[(validator.kind, rule.rule_id)] = RuleInfo(
                    id=_cel_id(validator.kind, rule.rule_id, source),
                    short=message,
                    full=f"{message} (CEL rule on {rule.rule_id.removeprefix('cel:')}: {source})",
                    help=f"The {validator.kind} CRD rule `{source}` must hold: {message}.",
                )

    def info(self, kind: str, rule: str) -> RuleInfo:
        """The entry for a finding's rule (``kind`` ``""`` for input problems)."""
        found = self._rules.get((kind, rule))
        if found is not None:
            return found
        base = rule.split("#", 1)[0]
        short, help_text = (
            DESCRIPTIONS.get(base)
            or GENERIC.get(base)
            or GENERIC.get(base.split(":", 1)[0])
            or (base, "See the message.")
        )
        return RuleInfo(
            id=f"{kind}/{rule}" if kind else rule, short=short, full=short, help=help_text
        )
