"""Running the CEL rules of one schema node on a value (the apiserver's CEL validation step).

A rule runs on a present value with ``self`` (and ``oldSelf`` on UPDATE where the old value
correlates); its fast path, when it has one, decides the common case without building an
environment. Failures carry the rule's message (or messageExpression), evaluation errors the
schema's type name, as kube-apiserver 1.37 reports them.
"""

from __future__ import annotations

from typing import Any, Final

from shared.policy.cel import SLOW, CelError
from shared.policy.cel.meter import METER, CostLimitExceeded, Meter
from shared.policy.schema.node import ABSENT, Context, Node, Rule
from shared.policy.verdict import INVALID, OMIT_VALUE, Violation

BLOCKED_MESSAGE: Final = (
    "some validation rules were not checked because the object was invalid; "
    "correct the existing errors to complete validation"
)


def run_rules(node: Node, value: Any, old: Any, path: str, ctx: Context) -> None:
    """Run ``node``'s rules on ``value``; failures go to ``ctx.cel_errors``."""
    for rule in node.rules:
        if rule.transition and old is ABSENT and not rule.optional_old_self:
            continue
        if rule.metered is not None:
            if not run_metered(rule, node, value, old, path, ctx):
                ctx.run_cel = False  # out of budget: no further rule runs, as the apiserver
                return
            continue
        fast = rule.program.fast
        result = fast(value, None if old is ABSENT else old) if fast is not None else SLOW
        if result is True:
            continue  # the common case: passed, decided without building an environment
        env: dict[str, Any] = {"self": value}
        if rule.transition:
            env["oldSelf"] = None if old is ABSENT else old
        try:
            if result is SLOW:  # the fast path deferred (or there is none): the closures decide
                result = rule.program.fn(env)
        except CelError as exc:
            detail = f"{exc} evaluating rule: {rule.error_string()}"
            ctx.cel_errors.append(
                Violation(path, INVALID, detail, rule.rule_id, node.schema_type_name)
            )
            continue
        except RecursionError:
            detail = f"rule is too deeply nested to evaluate: {rule.error_string()}"
            ctx.cel_errors.append(
                Violation(path, INVALID, detail, rule.rule_id, node.schema_type_name)
            )
            continue
        if result is not True:
            _record_failure(rule, node, value, result, path, ctx, env)


def _record_failure(
    rule: Rule, node: Node, value: Any, result: Any, path: str, ctx: Context, env: dict[str, Any]
) -> None:
    """A rule that did not yield true: its message (or that it yielded no bool)."""
    if result is not False:
        detail = f"rule did not evaluate to a bool: {rule.error_string()}"
        ctx.cel_errors.append(Violation(path, INVALID, detail, rule.rule_id, node.schema_type_name))
        return
    where = path + rule.field_path if rule.field_path else path
    ctx.cel_errors.append(
        Violation(
            where.lstrip("."), rule.error_type, message(rule, env), rule.rule_id, cel_value(value)
        )
    )


def run_metered(rule: Rule, node: Node, value: Any, old: Any, path: str, ctx: Context) -> bool:
    """Run a metered rule, charging ``ctx.budget``; False when CEL validation must stop."""
    assert rule.metered is not None
    meter = Meter()
    env: dict[str, Any] = {"self": value, METER: meter}
    if rule.transition:
        env["oldSelf"] = None if old is ABSENT else old
    failure: str | None = None
    try:
        result = rule.metered(env)
    except CostLimitExceeded:
        result, failure = (
            None,
            (
                "'operation cancelled: actual cost limit exceeded': no further validation rules "
                f"will be run due to call cost exceeds limit for rule: {rule.error_string()}"
            ),
        )
    except CelError as exc:
        result, failure = None, f"{exc} evaluating rule: {rule.error_string()}"
    if meter.spent > ctx.budget:
        detail = (
            "validation failed due to running out of cost budget, "
            "no further validation rules will be run"
        )
        ctx.cel_errors.append(Violation(path, INVALID, detail, rule.rule_id, node.schema_type_name))
        return False
    ctx.budget -= meter.spent
    if failure is not None:
        ctx.cel_errors.append(
            Violation(path, INVALID, failure, rule.rule_id, node.schema_type_name)
        )
        return not failure.startswith("'operation cancelled")
    if result is not True:
        _record_failure(rule, node, value, result, path, ctx, env)
    return True


def cel_value(value: Any) -> Any:
    """The bad value of a failed CEL rule: 1.37 shows a scalar and omits objects and lists
    (an evaluation error still shows the schema type, e.g. ``"object"``)."""
    return value if isinstance(value, str | int | float | bool) else OMIT_VALUE


def message(rule: Rule, env: dict[str, Any]) -> str:
    """The messageExpression's text when it yields a usable one, else the static message."""
    if rule.message_expression is not None:
        try:
            text = rule.message_expression(env)
        except CelError:
            text = None
        if isinstance(text, str) and text.strip() and "\n" not in text:
            return text.strip()
    return rule.fallback_message()


def blocked_violation() -> Violation:
    """The apiserver's note that CEL rules were skipped because of a type error."""
    return Violation("<nil>", INVALID, BLOCKED_MESSAGE, "schema:type-blocks-cel", None)
