"""Verdict parity between the real kube-apiserver and our engine.

`server_verdict` asks the apiserver with a server-side dry run (``dryRun=All``, kubectl's
default ``fieldValidation=Strict``); UPDATE cases create the old object for real first and
remove it after. `engine_verdict` asks `PolicyEngine` the same question: ``webhook=False`` for
an apiserver with only the CRDs registered, ``webhook=True`` with our webhook registered.
Both answers are reduced to (allowed, set of field-error texts) and compared.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.policy.engine import PolicyEngine
from tests.corpus_cases import Case, cases
from tests.realkube.api import Answer, Api
from tests.reliability.fuzz_strategies import near_misses, schema_objects, substrate_harnesses

PLURALS = {"AgentHarness": "agentharnesses", "SandboxAgent": "sandboxagents"}
DRY_RUN = {"dryRun": "All", "fieldValidation": "Strict"}
STRICT_PREFIX = "strict decoding error: "
CASES = [c for c in cases() if c.expect in ("allowed", "denied")]
FUZZ = int(os.environ.get("KAGENT_REALKUBE_FUZZ", "2000"))
"""Generated objects per fuzz run: 2,000 in CI, ``KAGENT_REALKUBE_FUZZ=20000`` for the long run."""
FUZZ_TIMEOUT = max(300, FUZZ // 10)
"""Seconds a fuzz test may take (pytest-timeout): about 20 ms per object on 2 busy cores, x5."""


@dataclass(frozen=True)
class Outcome:
    """A verdict reduced to what both sides can say."""

    allowed: bool
    messages: frozenset[str]
    warnings: tuple[str, ...] = ()

    def show(self) -> str:
        state = "allowed" if self.allowed else "denied"
        return f"{state} {sorted(self.messages)}" + (
            f" warnings={list(self.warnings)}" if self.warnings else ""
        )


def _path(obj: dict[str, Any], namespace: str) -> str:
    return f"/apis/{obj['apiVersion']}/namespaces/{namespace}/{PLURALS[obj['kind']]}"


def outcome_of(answer: Answer) -> Outcome:
    """The apiserver's answer as an `Outcome` (422 causes, or a 400's strict-decoding list)."""
    if answer.allowed:
        return Outcome(True, frozenset(), tuple(answer.warnings))
    if answer.status == 422 and answer.violations():
        return Outcome(False, frozenset(answer.violations()), tuple(answer.warnings))
    message = answer.message
    if (
        STRICT_PREFIX in message
    ):  # "<Kind> in version ... cannot be handled ...: strict decoding error: ..."
        listed = message.split(STRICT_PREFIX, 1)[1]
        return Outcome(False, frozenset(re.split(r', (?=(?:unknown|duplicate) field ")', listed)))
    return Outcome(False, frozenset({f"HTTP {answer.status}: {message}"}))


def server_verdict(
    api: Api, obj: dict[str, Any], old: dict[str, Any] | None, namespace: str
) -> tuple[Outcome, Answer]:
    """Dry-run CREATE (or UPDATE against ``old``, created for real first) in ``namespace``."""
    obj = json.loads(json.dumps(obj))
    if isinstance(obj.get("metadata"), dict):
        obj["metadata"]["namespace"] = namespace
    if old is None:
        answer = api.call("POST", _path(obj, namespace), obj, DRY_RUN)
        return outcome_of(answer), answer
    old = json.loads(json.dumps(old))
    old["metadata"]["namespace"] = namespace
    created = api.call("POST", _path(old, namespace), old)
    if not created.allowed:
        raise AssertionError(f"old object refused: {created.status} {created.message}")
    try:
        name = old["metadata"]["name"]
        if isinstance(obj.get("metadata"), dict):  # an update names the version it replaces
            obj["metadata"]["resourceVersion"] = created.body["metadata"]["resourceVersion"]
        answer = api.call("PUT", f"{_path(obj, namespace)}/{name}", obj, DRY_RUN)
        return outcome_of(answer), answer
    finally:
        api.call("DELETE", f"{_path(old, namespace)}/{old['metadata']['name']}")


def engine_verdict(
    engine: PolicyEngine,
    obj: dict[str, Any],
    old: dict[str, Any] | None,
    namespace: str,
    *,
    webhook: bool,
) -> Outcome:
    """Our verdict for the same request."""
    obj = json.loads(json.dumps(obj))
    if isinstance(obj.get("metadata"), dict):
        obj["metadata"]["namespace"] = namespace
    if old is not None:
        old = json.loads(json.dumps(old))
        old["metadata"]["namespace"] = namespace
    verdict = engine.admit(
        obj,
        old=old,
        operation="UPDATE" if old is not None else "CREATE",
        namespace=namespace,
        webhook=webhook,
    )
    return Outcome(
        verdict.allowed, frozenset(v.message for v in verdict.violations), verdict.warnings
    )


# A finding on a secret-bearing field names the value's type where the apiserver quotes the
# value (SPEC principle 3; docs/policy.md, "Deliberate differences").
_SECRET_VALUE = re.compile(
    r"((?:gatewayToken|botToken|appToken)[^:]*): (Invalid value|Unsupported value|Duplicate value): (\"[^\"]*\"|[^:]+): "
)


def _normal(messages: frozenset[str]) -> frozenset[str]:
    return frozenset(_SECRET_VALUE.sub(r"\1: \2: <value>: ", m) for m in messages)


def deviation(ours: Outcome, theirs: Outcome) -> str | None:
    """The documented difference explaining a disagreement (docs/policy.md), or None.

    Both must deny; what differs is only how: requests the apiserver refuses while decoding (a
    400 before any validation: metadata that is not an object, an update without a name, a
    number beyond float64) or whose unknown fields it finds inside a value of the wrong type
    (pruning walks into it, the engine reports the type error), and int-or-string ``anyOf``
    fields with a value of neither type (the apiserver adds its anyOf note)."""
    if ours.allowed or theirs.allowed:
        return None
    text = " ".join(theirs.messages)
    if text.startswith("HTTP 400:"):
        return "refused while decoding"
    if all(m.startswith("unknown field") for m in theirs.messages) and (
        any("must be of type" in m for m in ours.messages)
        or (
            ours.messages < theirs.messages
            and all(m.startswith("unknown field") for m in ours.messages)
        )
    ):
        return "unknown fields inside a value of the wrong type"
    if "must validate at least one schema (anyOf)" in text:
        return "int-or-string value of neither type"
    return None


def agree(ours: Outcome, theirs: Outcome, *, warnings: bool = False) -> bool:
    """Same decision and the same field errors (and the same warnings when asked)."""
    same = ours.allowed == theirs.allowed and _normal(ours.messages) == _normal(theirs.messages)
    return same and (not warnings or sorted(ours.warnings) == sorted(theirs.warnings))


def load(case: Case) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The case's object and old object (for UPDATE)."""
    obj = yaml.safe_load(case.path.read_text(encoding="utf-8"))
    old = yaml.safe_load(case.old.read_text(encoding="utf-8")) if case.old else None
    return obj, old


def _report(what: str, theirs: Outcome, ours: Outcome) -> str:
    return f"{what}\n  apiserver: {theirs.show()}\n  engine:    {ours.show()}"


def corpus_parity(api: Api, engine: PolicyEngine, namespace: str, *, webhook: bool) -> list[str]:
    """Every corpus case on both sides; the disagreements, described."""
    found = []
    for case in CASES:
        obj, old = load(case)
        theirs, _ = server_verdict(api, obj, old, namespace)
        ours = engine_verdict(engine, obj, old, namespace, webhook=webhook)
        if not agree(ours, theirs, warnings=webhook):
            found.append(_report(case.id, theirs, ours))
    return found


def _namespaced(obj: Any) -> Any:
    """Generated objects go to the test namespace (NamespaceLifecycle would otherwise answer
    404 before validation); their other fields stay as generated."""
    if isinstance(obj.get("metadata"), dict):
        obj["metadata"].pop("namespace", None)
    return obj


GENERATED = st.one_of(
    schema_objects().map(lambda o: (_namespaced(o), None)),
    substrate_harnesses().map(lambda o: (_namespaced(o), None)),
    near_misses().map(lambda p: (_namespaced(p[0]), p[1])),
)


def fuzz_parity(
    api: Api, engine: PolicyEngine, namespace: str, *, webhook: bool, examples: int
) -> tuple[int, list[str]]:
    """``examples`` generated and near-miss objects on both sides (deterministic); returns how
    many were sent and the first 50 disagreements."""
    found: list[str] = []
    explained: dict[str, int] = {}
    seen = [0]

    @settings(
        max_examples=examples,
        database=None,
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(GENERATED)
    def run(pair: tuple[dict[str, Any], dict[str, Any] | None]) -> None:
        obj, old = pair
        if (
            old is not None
            and engine_verdict(engine, old, None, namespace, webhook=webhook).allowed is False
        ):
            return
        seen[0] += 1
        theirs, _ = server_verdict(api, obj, old, namespace)
        ours = engine_verdict(engine, obj, old, namespace, webhook=webhook)
        if agree(ours, theirs, warnings=webhook):
            return
        reason = deviation(ours, theirs)
        if reason is not None:
            explained[reason] = explained.get(reason, 0) + 1
        elif len(found) < 50:
            found.append(_report(yaml.safe_dump(obj)[:600], theirs, ours))

    run()
    print(f"fuzz parity (webhook={webhook}): {seen[0]} sent, documented differences: {explained}")
    return seen[0], found
