"""(b) With only our CRDs registered, the real apiserver and `PolicyEngine(webhook=False)` give
the same verdict and the same field errors: every corpus case (CREATE and UPDATE), then
generated and near-miss objects (2,000 by default; ``KAGENT_REALKUBE_FUZZ=20000`` for the long
run)."""

from __future__ import annotations

import subprocess

import pytest

from devstack.realkube.plane import ControlPlane
from shared.policy.engine import PolicyEngine
from tests.realkube.api import Api
from tests.realkube.conftest import kubectl_as
from tests.realkube.parity import CASES, FUZZ, FUZZ_TIMEOUT, corpus_parity, fuzz_parity

NAMESPACE = "team-a"


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    return PolicyEngine.from_dir()


@pytest.fixture(scope="module")
def crd_only(plane: ControlPlane, crds: subprocess.CompletedProcess[str]) -> str:
    """No webhook configuration of ours is registered; the test namespace exists."""
    hooks = kubectl_as(
        plane, "get", "validatingwebhookconfigurations,mutatingwebhookconfigurations", "-o", "name"
    ).stdout
    assert "kagent" not in hooks, hooks
    kubectl_as(plane, "create", "namespace", NAMESPACE, check=False)
    return NAMESPACE


def test_corpus_verdicts_equal_the_apiserver(
    admin: Api, engine: PolicyEngine, crd_only: str
) -> None:
    disagreements = corpus_parity(admin, engine, crd_only, webhook=False)
    assert not disagreements, f"{len(disagreements)} of {len(CASES)} differ:\n" + "\n".join(
        disagreements
    )


@pytest.mark.timeout(FUZZ_TIMEOUT)
def test_generated_and_near_miss_verdicts_equal_the_apiserver(
    admin: Api, engine: PolicyEngine, crd_only: str
) -> None:
    seen, disagreements = fuzz_parity(admin, engine, crd_only, webhook=False, examples=FUZZ)
    assert seen >= min(FUZZ, 1000), seen
    assert not disagreements, f"{len(disagreements)}+ of {seen} differ:\n" + "\n".join(
        disagreements
    )
