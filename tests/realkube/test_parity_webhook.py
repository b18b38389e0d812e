"""(b) With our webhook registered through the chart's rendered Validating- and
MutatingWebhookConfiguration (url form), the real apiserver's verdict, field errors and warnings
equal `PolicyEngine(webhook=True)`'s (what `check` gives), for every corpus case and for generated
and near-miss objects; the mutation lands in the stored object."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.realkube.plane import ControlPlane
from shared.policy.engine import PolicyEngine
from tests.realkube.api import Api
from tests.realkube.conftest import kubectl_as
from tests.realkube.hooks import chart_configurations, registered, start_webhook, wait_until
from tests.realkube.parity import (
    CASES,
    FUZZ,
    FUZZ_TIMEOUT,
    corpus_parity,
    fuzz_parity,
    load,
    server_verdict,
)

NAMESPACE = "team-a"


def webhook_only_denial(engine: PolicyEngine) -> dict[str, object]:
    """A corpus object only the webhook denies: its denial shows the webhook is in the path."""
    for case in CASES:
        obj, old = load(case)
        if (
            old is None
            and engine.admit(obj, webhook=False).allowed
            and not engine.admit(obj).allowed
        ):
            return obj
    raise AssertionError("the corpus has no webhook-only denial")


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    return PolicyEngine.from_dir()


@pytest.fixture(scope="module")
def with_webhook(
    plane: ControlPlane,
    admin: Api,
    crds: subprocess.CompletedProcess[str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    workdir: Path = tmp_path_factory.mktemp("webhook")
    proc = start_webhook(workdir)
    try:
        kubectl_as(plane, "create", "namespace", NAMESPACE, check=False)
        ca = (workdir / "certs" / "ca.crt").read_bytes()
        with registered(admin, chart_configurations(proc.ready["arg0"], ca)):
            probe = webhook_only_denial(PolicyEngine.from_dir())
            wait_until(
                "the webhook answers through the apiserver",
                lambda: not server_verdict(admin, probe, None, NAMESPACE)[0].allowed,
            )
            yield NAMESPACE
    finally:
        proc.stop()


def test_corpus_full_verdicts_equal_the_apiserver(
    admin: Api, engine: PolicyEngine, with_webhook: str
) -> None:
    disagreements = corpus_parity(admin, engine, with_webhook, webhook=True)
    assert not disagreements, f"{len(disagreements)} differ:\n" + "\n".join(disagreements)


@pytest.mark.timeout(FUZZ_TIMEOUT)
def test_generated_full_verdicts_equal_the_apiserver(
    admin: Api, engine: PolicyEngine, with_webhook: str
) -> None:
    seen, disagreements = fuzz_parity(admin, engine, with_webhook, webhook=True, examples=FUZZ)
    assert seen >= min(FUZZ, 1000), seen
    assert not disagreements, f"{len(disagreements)}+ of {seen} differ:\n" + "\n".join(
        disagreements
    )
