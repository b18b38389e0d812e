"""Label and field selectors (query strings and LabelSelector objects), as the apiserver parses them."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from devstack.kubeapi.errors import bad_request

Matcher = Callable[[dict[str, Any]], bool]

_SET_RE = re.compile(r"^\s*(!?)\s*([A-Za-z0-9_./-]+)\s*(?:(\s+in\s+|\s+notin\s+)\((.*)\))?\s*$")


def _split_top(text: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def parse_label_selector(text: str | None) -> Callable[[dict[str, str]], bool]:
    """Parse ``a=b,c!=d,e in (x,y),!f,g`` into a predicate over a label map."""
    if not text:
        return lambda labels: True
    reqs: list[Callable[[dict[str, str]], bool]] = []
    for part in _split_top(text):
        for op in ("==", "!=", "="):
            if op in part and "(" not in part:
                key, value = (s.strip() for s in part.split(op, 1))
                if op == "!=":
                    reqs.append(lambda lb, k=key, v=value: lb.get(k) != v)
                else:
                    reqs.append(lambda lb, k=key, v=value: lb.get(k) == v)
                break
        else:
            m = _SET_RE.match(part)
            if not m:
                raise bad_request(f"unable to parse requirement: invalid label selector: {part!r}")
            neg, key, setop, values = m.groups()
            if setop:
                vals = {v.strip() for v in values.split(",") if v.strip()}
                if setop.strip() == "in":
                    reqs.append(lambda lb, k=key, vs=vals: lb.get(k) in vs)
                else:
                    reqs.append(lambda lb, k=key, vs=vals: lb.get(k) not in vs)
            elif neg:
                reqs.append(lambda lb, k=key: k not in lb)
            else:
                reqs.append(lambda lb, k=key: k in lb)
    return lambda labels: all(r(labels) for r in reqs)


def label_selector_object(selector: dict[str, Any] | None) -> Callable[[dict[str, str]], bool]:
    """A predicate for a ``metav1.LabelSelector`` (matchLabels + matchExpressions); None matches all."""
    if not selector:
        return lambda labels: True
    reqs: list[Callable[[dict[str, str]], bool]] = []
    for k, v in (selector.get("matchLabels") or {}).items():
        reqs.append(lambda lb, k=k, v=v: lb.get(k) == v)
    for expr in selector.get("matchExpressions") or []:
        key, op, values = (
            expr.get("key", ""),
            expr.get("operator", ""),
            set(expr.get("values") or []),
        )
        if op == "In":
            reqs.append(lambda lb, k=key, vs=values: lb.get(k) in vs)
        elif op == "NotIn":
            reqs.append(lambda lb, k=key, vs=values: lb.get(k) not in vs)
        elif op == "Exists":
            reqs.append(lambda lb, k=key: k in lb)
        elif op == "DoesNotExist":
            reqs.append(lambda lb, k=key: k not in lb)
    return lambda labels: all(r(labels) for r in reqs)


def field_value(obj: dict[str, Any], path: str) -> str | None:
    """The string form of a dotted field (``metadata.name``, ``involvedObject.uid``)."""
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    if isinstance(cur, bool):
        return "true" if cur else "false"
    if cur is None or isinstance(cur, dict | list):
        return None
    return str(cur)


def parse_field_selector(text: str | None) -> Matcher:
    """Parse ``metadata.name=x,spec.a!=b`` into a predicate over an object."""
    if not text:
        return lambda obj: True
    reqs: list[Matcher] = []
    for part in _split_top(text):
        for op in ("==", "!=", "="):
            if op in part:
                key, value = (s.strip() for s in part.split(op, 1))
                if not key:
                    raise bad_request(f"invalid field selector: {part!r}")
                if op == "!=":
                    reqs.append(lambda o, k=key, v=value: (field_value(o, k) or "") != v)
                else:
                    reqs.append(lambda o, k=key, v=value: (field_value(o, k) or "") == v)
                break
        else:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
    return lambda obj: all(r(obj) for r in reqs)


def object_matcher(label_selector: str | None, field_selector: str | None) -> Matcher:
    """One predicate for both selectors of a list or watch request."""
    labels = parse_label_selector(label_selector)
    fields = parse_field_selector(field_selector)
    if not label_selector and not field_selector:
        return lambda obj: True
    return lambda obj: labels((obj.get("metadata") or {}).get("labels") or {}) and fields(obj)
