"""CRD variants for the CEL load checks (result types, estimated cost) and the run-time cost
limits: one CRD ``widgets.celcost.kagent.test`` per variant, and objects of a given list size.
The unit tests check the engine's answers; tests/realkube/test_cel_cost.py compares them with
a real kube-apiserver."""

from __future__ import annotations

from typing import Any, Final

GROUP: Final = "celcost.kagent.test"
STRING: Final[dict[str, Any]] = {"type": "string"}
UNBOUNDED_STRINGS: Final[dict[str, Any]] = {"type": "array", "items": {"type": "string"}}
BOUNDED_STRINGS: Final[dict[str, Any]] = {
    "type": "array",
    "maxItems": 10,
    "items": {"type": "string", "maxLength": 10},
}


def crd(
    spec_schema: dict[str, Any],
    root_rules: list[dict[str, Any]] | None = None,
    *,
    plural: str = "widgets",
) -> dict[str, Any]:
    """A one-version namespaced CRD ``<plural>.celcost.kagent.test`` whose ``spec`` is
    ``spec_schema`` (and with ``root_rules`` on the root)."""
    root: dict[str, Any] = {"type": "object", "properties": {"spec": spec_schema}}
    if root_rules:
        root["x-kubernetes-validations"] = root_rules
    kind = plural[:-1].capitalize()
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": plural, "singular": plural[:-1], "kind": kind},
            "versions": [
                {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": root}}
            ],
        },
    }


def spec_with(rules: list[dict[str, Any]], **props: Any) -> dict[str, Any]:
    """An object schema with ``props`` and ``rules``."""
    return {"type": "object", "properties": props, "x-kubernetes-validations": rules}


#: Refused at creation: name -> CRD.
REFUSED: Final[dict[str, dict[str, Any]]] = {
    "not-a-bool": crd(spec_with([{"rule": "self.name"}], name=STRING)),
    "message-not-a-string": crd(
        spec_with(
            [{"rule": "self.name == 'a'", "messageExpression": "size(self.name)"}], name=STRING
        )
    ),
    "undeclared-field": crd(spec_with([{"rule": "self.nmae == 'a'"}], name=STRING)),
    "undeclared-metadata-field": crd(STRING, [{"rule": "has(self.metadata.labels)"}]),
    "quadratic-unbounded": crd(
        spec_with([{"rule": "self.l.all(x, self.l.exists(y, x == y))"}], l=UNBOUNDED_STRINGS)
    ),
    "message-concatenates-a-number": crd(
        STRING,
        [
            {
                "rule": "size(self.metadata.name) <= 63",
                "messageExpression": "'name is ' + string(size(self.metadata.name)) + ' long'",
            }
        ],
    ),
}

#: Accepted at creation: name -> CRD.
ACCEPTED: Final[dict[str, dict[str, Any]]] = {
    "quadratic-bounded": crd(
        spec_with([{"rule": "self.l.all(x, self.l.exists(y, x == y))"}], l=BOUNDED_STRINGS)
    ),
    "metadata-name": crd(STRING, [{"rule": "size(self.metadata.name) < 64"}]),
    "linear-unbounded": crd(spec_with([{"rule": "self.l.all(x, x == 'a')"}], l=UNBOUNDED_STRINGS)),
}

QUADRATIC: Final = crd(
    spec_with(
        [{"rule": "self.l.all(x, self.l.exists(y, x == y))"}],
        l={"type": "array", "maxItems": 800, "items": {"type": "string", "maxLength": 8}},
    ),
    plural="quadratics",
)
"""A quadratic rule over at most 800 short strings: within the estimated limits (so accepted,
and metered), past the per-call limit at run time on 800 distinct items, within it on 200."""
MANY: Final = crd(
    spec_with(
        [{"rule": f"self.l.all(x, !x.contains('z{i}'))"} for i in range(80)],
        l={"type": "array", "maxItems": 1000, "items": {"type": "string", "maxLength": 2000}},
    ),
    plural="manies",
)
"""80 linear rules over at most 1,000 strings of 2,000 characters: within the estimated limits,
each within the per-call limit, together over the run-time budget on 1,000 long items."""


def widget(kind_crd: dict[str, Any], values: list[str]) -> dict[str, Any]:
    """An object of ``kind_crd`` with ``values`` in ``spec.l``."""
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": kind_crd["spec"]["names"]["kind"],
        "metadata": {"name": "w", "namespace": "default"},
        "spec": {"l": values},
    }


def distinct(count: int) -> list[str]:
    """``count`` different short strings."""
    return [f"a{i}" for i in range(count)]


def long_strings(count: int, length: int = 2000) -> list[str]:
    """``count`` strings of ``length`` characters."""
    return ["a" * length] * count
