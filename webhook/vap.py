"""`kagent-substrate export-vap`: ValidatingAdmissionPolicy + Binding for our CRDs' CEL rules.

For clusters that want an in-apiserver check without calling the webhook (for instance a
cluster that installed the upstream kagent CRDs, which lack our rules). Every
``x-kubernetes-validations`` rule of the CRD YAML is carried over unchanged: it runs where the
CRD would run it by binding ``self`` (and ``oldSelf``) as a comprehension variable over the
value at the rule's path, guarded by ``has()`` for optional fields and ``all()`` over list items,
so no rule is rewritten by hand. Transition rules below a list, and rules under property names
that are not CEL identifiers, stay webhook-only; so do the rules W1-W6 of
``shared/policy/admission_rules.py``, listed in the output.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from shared import bundled
from shared.errors import InputError
from shared.policy.engine import load_crds

_IDENT: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_API: Final = "admissionregistration.k8s.io/v1"

#: Rules only the webhook can apply (SPEC §4; code in shared/policy/admission_rules.py).
WEBHOOK_ONLY: Final = (
    ("webhook:W1", "channel credential valueFrom.type ConfigMap on substrate (deny)"),
    ("webhook:W2", "two channel names normalising to the same env var (deny)"),
    ("webhook:W3", "spec.env configMapKeyRef/fieldRef/resourceFieldRef/fileKeyRef on substrate (deny)"),
    ("webhook:W4", "modelConfigRef naming another namespace on substrate (deny)"),
    ("webhook:W5", "inline gatewayToken or channel credential (warning)"),
    ("webhook:W6", "spec.image, spec.network on substrate (warning)"),
    ("mutation", "pinning spec.substrate.snapshotsConfig and workerPoolRef (mutating webhook)"),
    ("schema", "structural schema, defaults and pruning (the CRD itself)"),
)  # fmt: skip

Segment = tuple[str, str]  # ("prop", name) | ("items", "") | ("map", "")


@dataclass(frozen=True, slots=True)
class SourceRule:
    """One ``x-kubernetes-validations`` entry and where it sits in the schema."""

    rule_id: str
    where: str
    segments: tuple[Segment, ...]
    raw: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Exported:
    """A rule carried into a policy: its kind, its id and the ``validations`` entry."""

    kind: str
    rule_id: str
    validation: dict[str, Any]


@dataclass(slots=True)
class PolicySet:
    """Policies and bindings to write, the rules exported, and the rules left out (why)."""

    documents: list[dict[str, Any]] = field(default_factory=list)
    exported: list[Exported] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _join(base: str, name: str) -> str:
    return f"{base}.{name}" if base else name


def walk_rules(
    schema: dict[str, Any], where: str = "", segments: tuple[Segment, ...] = ()
) -> Iterator[SourceRule]:
    """Every CEL rule of a schema, with the rule id the policy engine gives it."""
    for i, raw in enumerate(schema.get("x-kubernetes-validations") or ()):
        if isinstance(raw, dict) and isinstance(raw.get("rule"), str):
            yield SourceRule(f"cel:{where or '<root>'}#{i}", where, segments, raw)
    for name, sub in (schema.get("properties") or {}).items():
        if isinstance(sub, dict):
            yield from walk_rules(sub, _join(where, name), (*segments, ("prop", name)))
    if isinstance(schema.get("additionalProperties"), dict):
        yield from walk_rules(
            schema["additionalProperties"], _join(where, "*"), (*segments, ("map", ""))
        )
    if isinstance(schema.get("items"), dict):
        yield from walk_rules(schema["items"], f"{where}[*]", (*segments, ("items", "")))
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key) or ():
            if isinstance(sub, dict):
                yield from walk_rules(sub, where, segments)


def _scope(base: str, segments: Sequence[Segment], inner: Callable[[str], str], depth: int) -> str:
    """``inner(value)`` for every value at ``segments`` below ``base``; true where absent."""
    if not segments:
        return inner(base)
    (kind, name), rest = segments[0], segments[1:]
    if kind == "prop":
        value = f"{base}.{name}"
        return f"(!has({value}) || {_scope(value, rest, inner, depth)})"
    var = f"i{depth}"
    if kind == "items":
        return f"{base}.all({var}, {_scope(var, rest, inner, depth + 1)})"
    return f"{base}.all({var}, {_scope(f'{base}[{var}]', rest, inner, depth + 1)})"


def _path(base: str, segments: Sequence[Segment]) -> str:
    return base + "".join(f".{name}" for _, name in segments)


def to_validation(rule: SourceRule) -> dict[str, Any] | str:
    """The policy ``validations`` entry for ``rule``, or why it stays webhook-only."""
    names = [n for kind, n in rule.segments if kind == "prop"]
    if not all(_IDENT.match(n) for n in names):
        return "a property name on its path is not a CEL identifier"
    source = rule.raw["rule"].strip()
    listy = any(kind != "prop" for kind, _ in rule.segments)
    transition = re.search(r"\boldSelf\b", source) is not None
    if transition and (listy or rule.raw.get("optionalOldSelf")):
        return "transition rule below a list (items cannot be correlated in a policy)"

    def body(value: str) -> str:
        return f"[{value}].all(self, {source})"

    if transition:
        expression = "oldObject == null || " + _scope(
            "object",
            rule.segments,
            lambda new: _scope(
                "oldObject",
                rule.segments,
                lambda old: f"[{new}].all(self, [{old}].all(oldSelf, {source}))",
                0,
            ),
            0,
        )
    else:
        expression = _scope("object", rule.segments, body, 0)
    where = rule.where or "<root>"
    text = (rule.raw.get("message") or f"failed rule: {source}").strip()
    out: dict[str, Any] = {"expression": expression, "message": f"{where}: {text}"}
    message_expression = rule.raw.get("messageExpression")
    if message_expression and not listy and not transition:
        value = _path("object", rule.segments)
        out["messageExpression"] = (
            f"'{where}: ' + [{value}].map(self, {message_expression.strip()})[0]"
        )
    return out


def _policy_name(crd: dict[str, Any], version: str) -> str:
    return f"kagent-substrate.{crd['spec']['names']['plural']}.{version}"


def export_policies(crd_dir: Path | None = None) -> PolicySet:
    """Build one policy + binding per served CRD version of ``crd_dir`` (default: built in)."""
    result = PolicySet()
    for crd in load_crds(crd_dir or bundled.crd_dir()):
        spec = crd.get("spec") or {}
        for version in spec.get("versions") or ():
            if not version.get("served", True):
                continue
            schema = (version.get("schema") or {}).get("openAPIV3Schema") or {}
            validations = []
            for rule in walk_rules(schema):
                converted = to_validation(rule)
                if isinstance(converted, str):
                    result.skipped.append((f"{spec['names']['kind']} {rule.rule_id}", converted))
                    continue
                result.exported.append(Exported(spec["names"]["kind"], rule.rule_id, converted))
                validations.append(converted)
            if not validations:
                continue
            name = _policy_name(crd, version["name"])
            result.documents.append(
                {
                    "apiVersion": _API,
                    "kind": "ValidatingAdmissionPolicy",
                    "metadata": {
                        "name": name,
                        "labels": {"app.kubernetes.io/name": "kagent-substrate"},
                    },
                    "spec": {
                        "failurePolicy": "Fail",
                        "matchConstraints": {
                            "resourceRules": [
                                {
                                    "apiGroups": [spec["group"]],
                                    "apiVersions": [version["name"]],
                                    "operations": ["CREATE", "UPDATE"],
                                    "resources": [spec["names"]["plural"]],
                                }
                            ]
                        },
                        "validations": validations,
                    },
                }
            )
            result.documents.append(
                {
                    "apiVersion": _API,
                    "kind": "ValidatingAdmissionPolicyBinding",
                    "metadata": {
                        "name": name,
                        "labels": {"app.kubernetes.io/name": "kagent-substrate"},
                    },
                    "spec": {"policyName": name, "validationActions": ["Deny"]},
                }
            )
    return result


def render(policies: PolicySet) -> str:
    """Multi-document YAML, opening with comments listing what stays webhook-only."""
    lines = [
        "# ValidatingAdmissionPolicies generated by `kagent-substrate export-vap` from the CRD",
        "# x-kubernetes-validations rules. Not covered here (run the webhook for these):",
    ]
    lines += [f"#   {rule_id}: {why}" for rule_id, why in WEBHOOK_ONLY]
    lines += [f"#   {rule_id}: {why}" for rule_id, why in policies.skipped]
    docs = [yaml.safe_dump(d, sort_keys=False, width=1000) for d in policies.documents]
    return "\n".join(lines) + "\n---\n" + "---\n".join(docs)


def main(argv: Sequence[str] | None = None) -> int:
    """Write the policies to ``-o FILE`` or stdout; exit 2 on bad input."""
    parser = argparse.ArgumentParser(
        prog="kagent-substrate export-vap",
        description="Write ValidatingAdmissionPolicy + Binding objects (admissionregistration.k8s.io/v1) "
        "for the CEL rules of the CRDs, and list the rules that stay webhook-only.",
    )
    parser.add_argument("--crds", type=Path, metavar="DIR", help="CRD folder (default: built in)")
    parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="file (default: stdout)")
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else 2
    try:
        text = render(export_policies(args.crds))
        if args.output is None:
            sys.stdout.write(text)
        else:
            args.output.write_text(text, encoding="utf-8")
    except (InputError, OSError) as exc:
        print(f"kagent-substrate export-vap: error: {exc}", file=sys.stderr)
        return 2
    return 0
