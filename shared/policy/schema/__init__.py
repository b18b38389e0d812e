"""Structural schemas, one module per algorithm (as apiextensions-apiserver's packages): compile
a CRD's openAPIV3Schema once (`compile`), then prune and default (`pruning`), validate
(`validation`, with list types in `listtype` and CEL rules in `rules`), and ObjectMeta
(`objectmeta`).

Semantics follow the kube-apiserver for custom resources: unknown fields are pruned (unless
``x-kubernetes-preserve-unknown-fields``), defaults are applied after pruning and before
validation, a non-nullable null is defaulted or dropped, list-type map/set uniqueness is
enforced, every ``x-kubernetes-validations`` rule runs on present values with ``self`` (and
``oldSelf`` on UPDATE where the old value correlates), and a type error anywhere blocks all
CEL rules, exactly as the apiserver does.
"""

from shared.policy.schema.compile import compile_schema
from shared.policy.schema.node import ABSENT, Context, Node, Rule, SchemaError, join
from shared.policy.schema.pruning import prune_and_default, prune_object
from shared.policy.schema.rules import BLOCKED_MESSAGE, blocked_violation, run_rules
from shared.policy.schema.validation import json_type, validate

__all__ = [
    "ABSENT",
    "BLOCKED_MESSAGE",
    "Context",
    "Node",
    "Rule",
    "SchemaError",
    "blocked_violation",
    "compile_schema",
    "join",
    "json_type",
    "prune_and_default",
    "prune_object",
    "run_rules",
    "validate",
]
