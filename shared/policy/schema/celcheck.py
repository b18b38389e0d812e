"""The apiserver's checks of a CRD's CEL rules when the CRD is created: each rule must yield a
bool and each messageExpression a string, and their estimated costs must stay within the
per-expression and per-schema limits. Errors are the apiserver's field errors on the CRD, e.g.
``openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Forbidden: estimated rule
cost exceeds budget by factor of more than 100x (...)``.

A rule's cost is its estimate times how often it can run: the product of maxItems and
maxProperties of the lists and maps above it, or, when one of them is unbounded, how many
values of its smallest size fit in the largest request.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Final

from shared.policy.cel import CelCompileError
from shared.policy.cel import cost as units
from shared.policy.cel.checker import check
from shared.policy.cel.decltypes import BOOL, STRING, DeclType, max_cardinality
from shared.policy.cel.meter import compile_metered
from shared.policy.golang import go_repr
from shared.policy.schema.celtypes import decl_type
from shared.policy.schema.node import Node, Rule

_TOTAL_WORDING: Final = "rule cost total"


@dataclass(slots=True)
class RuleCosts:
    """The estimated costs of one schema's rules (what the apiserver totals per version)."""

    total: int = 0
    most_expensive: list[tuple[int, str]] = field(default_factory=list)
    by_rule: dict[str, int] = field(default_factory=dict)
    """rule_id -> estimated cost of one evaluation (without cardinality)."""

    def may_exceed_runtime_limits(self) -> bool:
        """Whether some object could make these rules spend past a run-time limit (else they
        need no meter: the estimates bound what any object within the request size costs)."""
        per_call = max(self.by_rule.values(), default=0)
        return self.total > units.RUNTIME_BUDGET or per_call > units.PER_CALL_LIMIT

    def observe(self, path: str, cost: int) -> None:
        """``TotalCost.ObserveExpressionCost``: add, and keep the few most expensive."""
        self.total = units.add(self.total, cost)
        if cost >= units.ESTIMATED_CRD_COST_LIMIT // 100:
            self.most_expensive.append((cost, path))
            self.most_expensive.sort(key=lambda c: -c[0])
            del self.most_expensive[4:]


def check_rules(root: Node, path: str = "openAPIV3Schema") -> tuple[list[str], RuleCosts]:
    """The apiserver's errors for the CEL rules under ``root`` (a CRD version's schema) and
    their estimated costs."""
    errors: list[str] = []
    costs = RuleCosts()
    for node, where, cardinality, is_root in _nodes(root, path, 1, True):
        self_type = decl_type(node, resource_root=is_root)
        if cardinality is None:
            cardinality = max_cardinality(self_type.min_size)
        for i, rule in enumerate(node.rules):
            errors += _check_rule(
                rule, self_type, f"{where}.x-kubernetes-validations[{i}]", cardinality, costs
            )
    if costs.total > units.ESTIMATED_CRD_COST_LIMIT:
        for _, where in costs.most_expensive:
            errors.append(
                f"{where}: Forbidden: contributed to estimated {_TOTAL_WORDING} exceeding cost "
                "limit for entire OpenAPIv3 schema"
            )
        name = f"x-kubernetes-validations estimated {_TOTAL_WORDING} for entire OpenAPIv3 schema"
        detail = units.exceeds_message(name, costs.total, units.ESTIMATED_CRD_COST_LIMIT)
        errors.append(f"{path}: Forbidden: {detail}")
    return errors, costs


def meter_rules(root: Node) -> None:
    """Give every rule under ``root`` its metered closures (run-time cost limits apply)."""
    stack = [root]
    while stack:
        node = stack.pop()
        node.rules = tuple(
            replace(r, metered=compile_metered(r.program.tree)) if r.program.tree else r
            for r in node.rules
        )
        children = [*(node.properties or {}).values(), node.additional, node.items]
        children += [*node.all_of, *node.any_of, *node.one_of, node.not_]
        stack.extend(c for c in children if c is not None)


def _nodes(
    node: Node, where: str, cardinality: int | None, is_root: bool
) -> Iterator[tuple[Node, str, int | None, bool]]:
    """Every node with rules below ``node``: its apiserver path and how often it can occur
    (None: unbounded)."""
    if not node.has_rules_below:
        return
    yield node, where, cardinality, is_root
    for name, child in (node.properties or {}).items():
        yield from _nodes(child, f"{where}.properties[{name}]", cardinality, False)
    if node.additional is not None:
        times = _times(cardinality, node.max_properties)
        yield from _nodes(node.additional, f"{where}.additionalProperties", times, False)
    if node.items is not None:
        yield from _nodes(node.items, f"{where}.items", _times(cardinality, node.max_items), False)


def _times(cardinality: int | None, bound: int | None) -> int | None:
    if cardinality is None or bound is None:
        return None
    return units.mul(cardinality, max(bound, 0))


def _check_rule(
    rule: Rule, self_type: DeclType, where: str, cardinality: int, costs: RuleCosts
) -> list[str]:
    errors: list[str] = []
    source = rule.program.source
    try:
        result = check(rule.program.tree, self_type) if rule.program.tree is not None else None
    except CelCompileError as exc:
        return [f"{where}.rule: Invalid value: {go_repr(source)}: compilation failed: {exc}"]
    if result is None:
        return errors
    if result.type is not None and result.type.kind != BOOL:
        return [
            f"{where}.rule: Invalid value: {go_repr(source)}: cel expression must evaluate to a bool"
        ]
    expression_cost = units.mul(result.cost, cardinality)
    costs.by_rule[rule.rule_id] = result.cost
    if expression_cost > units.ESTIMATED_COST_LIMIT:
        detail = units.exceeds_message(
            "estimated rule cost", expression_cost, units.ESTIMATED_COST_LIMIT
        )
        errors.append(f"{where}.rule: Forbidden: {detail}")
    costs.observe(f"{where}.rule", expression_cost)
    errors += _check_message_expression(rule, self_type, where, costs)
    return errors


def _check_message_expression(
    rule: Rule, self_type: DeclType, where: str, costs: RuleCosts
) -> list[str]:
    program = rule.message_expression
    if program is None or program.tree is None:
        return []
    try:
        result = check(program.tree, self_type)
    except CelCompileError as exc:
        return [
            f"{where}.messageExpression: Invalid value: {go_repr(program.source)}: "
            f"messageExpression compilation failed: {exc}"
        ]
    if result.type is not None and result.type.kind != STRING:
        return [
            f"{where}.messageExpression: Invalid value: {go_repr(program.source)}: "
            "messageExpression must evaluate to a string"
        ]
    errors = []
    if result.cost > units.ESTIMATED_COST_LIMIT:
        detail = units.exceeds_message(
            "estimated messageExpression cost", result.cost, units.ESTIMATED_COST_LIMIT
        )
        errors.append(f"{where}.messageExpression: Forbidden: {detail}")
    costs.observe(f"{where}.messageExpression", result.cost)
    return errors
