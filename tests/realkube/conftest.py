"""One real control plane (etcd, kube-apiserver, kube-controller-manager v1.37) per test run,
shared by the tier; each test works in namespaces of its own.

The binaries come from ``make realkube`` (``make test`` builds them first). Without them the
tier is skipped with the build command, except under ``CI`` or ``KAGENT_REQUIRE_REALKUBE=1``,
where a missing binary fails the run.
"""

from __future__ import annotations

import secrets
import subprocess
import time
from collections.abc import Iterator

import pytest

from devstack.realkube.plane import ADMIN, ControlPlane, TokenUser
from devstack.stack import ROOT, kubectl
from tests.realkube.api import Api
from tests.realkube.require import bin_dir_or_skip

CHART_CRDS = ROOT / "charts" / "kagent-substrate" / "crds"
TEST_CRDS = ROOT / "devstack" / "crds"
USERS = (
    TokenUser("alice", secrets.token_urlsafe(16)),
    TokenUser("bob", secrets.token_urlsafe(16), ("team-a",)),
)


@pytest.fixture(scope="session")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """The running control plane (admin token, CA, kubeconfigs for admin, alice and bob)."""
    cp = ControlPlane(tmp_path_factory.mktemp("realkube"), bin_dir_or_skip(), users=USERS)
    cp.up()
    try:
        yield cp
    finally:
        cp.down()


@pytest.fixture(scope="session")
def admin(plane: ControlPlane) -> Api:
    """Raw REST as the admin (``system:masters``)."""
    return Api(plane.url, plane.admin_token, str(plane.ca_file))


def kubectl_as(
    plane: ControlPlane, *args: str, user: str = ADMIN, **kw: object
) -> subprocess.CompletedProcess[str]:
    """The project's kubectl against the real apiserver as ``user``."""
    return kubectl(plane.kubeconfig_path(user), *args, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def crds(plane: ControlPlane) -> subprocess.CompletedProcess[str]:
    """Our two CRDs and the test CRDs (ActorTemplate, WorkerPool, ModelConfig), Established."""
    out = kubectl_as(plane, "apply", "-f", str(CHART_CRDS), "-f", str(TEST_CRDS))
    kubectl_as(plane, "wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
    _wait_openapi_published(plane, "kagent.dev/v1alpha2", ("AgentHarness", "SandboxAgent"))
    return out


def _wait_openapi_published(
    plane: ControlPlane, group_version: str, kinds: tuple[str, ...]
) -> None:
    """Wait until the apiserver's OpenAPI v3 document for ``group_version`` holds ``kinds``.

    Established comes first; the OpenAPI controller publishes a CRD's schema a moment later,
    and ``kubectl explain`` reads that document ("couldn't find resource" until then).
    """
    deadline = time.monotonic() + 60
    path = f"/openapi/v3/apis/{group_version}"
    while True:
        got = kubectl_as(plane, "get", "--raw", path, check=False)
        if got.returncode == 0 and all(f'.{kind}"' in got.stdout for kind in kinds):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} still lacks {kinds} after 60 s: {got.stderr.strip()}")
        time.sleep(0.2)


@pytest.fixture
def namespace(plane: ControlPlane, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace for one test (deleted after it, not waited for)."""
    name = f"t-{secrets.token_hex(4)}"
    kubectl_as(plane, "create", "namespace", name)
    yield name
    kubectl_as(plane, "delete", "namespace", name, "--wait=false", check=False)
