"""Which objects `check` evaluates, skips or refuses, by group and kind (pure).

kubectl answers "no matches for kind" for a kind the cluster does not serve, and kubeconform
fails on a missing schema unless told to ignore it. `check` cannot know every kind of a
cluster, so it is strict only where a mistake is likely: in our group (``kagent.dev``) and in
near-miss spellings of our kinds and group. Everything else (Secrets, Deployments, kagent's own
kinds) is skipped, listed with ``-v`` and counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import get_close_matches
from typing import Final

from shared.policy.engine import PolicyEngine, split_api_version

KAGENT_OWN_KINDS: Final = frozenset(
    {"Agent", "ModelConfig", "ModelProviderConfig", "RemoteMCPServer", "ToolServer", "Memory"}
)
"""Kinds that kagent itself serves in ``kagent.dev`` (not ours to check): skipped."""

CHECK: Final = "check"
SKIP: Final = "skip"


@dataclass(frozen=True, slots=True)
class KindFilter:
    """``--skip`` and ``--reject``: entries are ``Kind`` or ``group/Kind`` (core: ``/Kind``)."""

    skip: frozenset[str] = field(default_factory=frozenset)
    reject: frozenset[str] = field(default_factory=frozenset)

    @staticmethod
    def parse(values: Iterable[str]) -> frozenset[str]:
        """``["A,B", "c/D"]`` -> {"A", "B", "c/D"} (repeatable, comma-separated)."""
        return frozenset(p.strip() for v in values for p in v.split(",") if p.strip())

    @staticmethod
    def matches(entries: frozenset[str], group: str, kind: str) -> bool:
        """Whether ``group``/``kind`` is named by ``entries``."""
        return kind in entries or f"{group}/{kind}" in entries


def _near(word: str, choices: Iterable[str]) -> str | None:
    lowered = {c.lower(): c for c in choices}
    found = get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.8)
    return lowered[found[0]] if found else None


def classify(engine: PolicyEngine, api_version: str, kind: str, kinds: KindFilter) -> str:
    """``CHECK``, ``SKIP``, or the text of an error: what `check` does with this object."""
    group = split_api_version(api_version)[0]
    if KindFilter.matches(kinds.reject, group, kind):
        return f"kind {kind} ({api_version}) is refused by --reject"
    if KindFilter.matches(kinds.skip, group, kind):
        return SKIP
    if engine.governs(api_version, kind):
        return CHECK
    ours = {v.kind: v for v in engine.validators}
    groups = {v.group for v in engine.validators}
    served = ", ".join(
        f"{v.kind} ({'/'.join((v.group, sv))})"
        for v in engine.validators
        for sv in v.served_versions
    )
    hint = f"; served: {served}"
    skip_hint = f"; pass --skip {kind} if it is served elsewhere"
    if group in groups:
        if kind in KAGENT_OWN_KINDS:
            return SKIP
        guess = _near(kind, ours) or _by_plural(engine, kind)
        did = f' (did you mean "{guess}"?)' if guess else ""
        return f'no matches for kind "{kind}" in version "{api_version}"{did}{hint}{skip_hint}'
    guess = kind if kind in ours else _near(kind, ours)
    if guess is not None:
        target = ours[guess]
        where = "/".join((target.group, *target.served_versions[:1]))
        return (
            f'no matches for kind "{kind}" in version "{api_version}" '
            f'(did you mean "{guess}" in "{where}"?){hint}{skip_hint}'
        )
    near_group = _near(group, groups) if group else None
    if near_group is not None:
        return (
            f'no matches for kind "{kind}" in version "{api_version}" '
            f'(did you mean group "{near_group}"?){hint}{skip_hint}'
        )
    return SKIP


def _by_plural(engine: PolicyEngine, kind: str) -> str | None:
    """``agentharnesses``, ``ahr`` and other resource names written as a kind."""
    low = kind.lower()
    for v in engine.validators:
        if low in {v.plural, v.singular, *v.short_names}:
            return v.kind
    return None
