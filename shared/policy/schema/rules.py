"""Running the CEL rules of one schema node on a value (the apiserver's CEL validation step).

A rule runs on a present value with ``self`` (and ``oldSelf`` on UPDATE where the old value
correlates); its fast path, when it has one, decides the common case without building an
environment. Failures carry the rule's message (or messageExpression), evaluation errors the
schema's type name, as kube-apiserver 1.37 reports them.
"""

from __future__ import annotations

from typing import Any, Final

from shared.policy.cel import SLOW, CelError
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
        fast = rule.program.fast
        result = fast(value, None if old is ABSENT else old) if fast is not None else SLOW
        if result is True:
            continue  # the common case: passed, decided without building an environment
        env: dict[str, Any] = {"self": value}
        if rule.transition:
            env["oldSelf"] = None if old is ABSENT else old
        where = path + rule.field_path if rule.field_path else path
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
        if result is True:
            continue
        if result is not False:
            detail = f"rule did not evaluate to a bool: {rule.error_string()}"
            ctx.cel_errors.append(
                Violation(path, INVALID, detail, rule.rule_id, node.schema_type_name)
            )
            continue
        ctx.cel_errors.append(
            Violation(
                where.lstrip("."),
                rule.error_type,
                message(rule, env),
                rule.rule_id,
                cel_value(value),
            )
        )


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
