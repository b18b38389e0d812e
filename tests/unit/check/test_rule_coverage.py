"""Every CEL rule of our CRDs is failed by at least one corpus case (and so has a test)."""

from __future__ import annotations

from collections.abc import Iterator

from shared.check.inputs import Document, parse_documents
from shared.policy.engine import PolicyEngine
from shared.policy.schema import Node
from tests.corpus_cases import cases

#: Reference rules we keep verbatim (SPEC §3) that no object can fail on our CRDs.
UNREACHABLE = {
    # spec.type is defaulted to Declarative, so has(self.type) always holds.
    "SandboxAgent:cel:spec#3",
    # spec.type is an enum of exactly these values; an enum error blocks CEL first.
    "SandboxAgent:cel:spec#4",
}


def _rule_ids(node: Node) -> Iterator[str]:
    yield from (r.rule_id for r in node.rules)
    for child in [*(node.properties or {}).values(), node.items, node.additional]:
        if child is not None:
            yield from _rule_ids(child)


def test_every_cel_rule_has_a_failing_corpus_case() -> None:
    engine = PolicyEngine.from_dir()
    all_rules = {
        f"{v.kind}:{rule}"
        for v in engine.validators
        for version in v.served_versions
        for rule in _rule_ids(v._version(version).root)
    }
    violated: set[str] = set()
    for case in cases():
        if case.expect != "denied":
            continue
        old = None
        if case.old is not None:
            old_docs = [
                d
                for d in parse_documents(str(case.old), case.old.read_text())
                if isinstance(d, Document)
            ]
            old = old_docs[0].obj
        for doc in parse_documents(str(case.path), case.path.read_text()):
            if isinstance(doc, Document) and engine.governs(doc.obj["apiVersion"], doc.obj["kind"]):
                verdict = engine.admit(doc.obj, old=old, operation="UPDATE" if old else "CREATE")
                violated |= {f"{doc.obj['kind']}:{v.rule}" for v in verdict.violations}
    assert all_rules >= UNREACHABLE, "a rule listed as unreachable no longer exists"
    missing = sorted(all_rules - violated - UNREACHABLE)
    assert missing == [], f"CEL rules without a failing corpus case: {missing}"
