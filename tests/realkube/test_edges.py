"""(c) Inputs at the edges, sent as raw JSON bytes to the real apiserver (only the CRDs
registered) and to `check` from a file: unknown fields under each ``fieldValidation``, duplicate
keys, integers beyond 2^53 and beyond int64, deep nesting and the 3 MiB request limit. Each case
records what the apiserver does and asserts `check` does the same (or the documented deviation).
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from devstack.realkube.plane import ControlPlane
from shared.check import cli
from shared.policy.engine import PolicyEngine
from tests.realkube.api import Answer, Api
from tests.realkube.conftest import kubectl_as
from tests.realkube.parity import agree, deviation, engine_verdict, outcome_of, server_verdict

NAMESPACE = "team-a"
PATH = f"/apis/kagent.dev/v1alpha2/namespaces/{NAMESPACE}/agentharnesses"
BASE: dict[str, Any] = {
    "apiVersion": "kagent.dev/v1alpha2",
    "kind": "AgentHarness",
    "metadata": {"name": "edge", "namespace": NAMESPACE},
    "spec": {
        "backend": "openclaw",
        "runtime": "substrate",
        "substrate": {"gatewayTokenSecretRef": {"name": "gw"}},
    },
}


@pytest.fixture(scope="module")
def ns(plane: ControlPlane, crds: subprocess.CompletedProcess[str]) -> str:
    kubectl_as(plane, "create", "namespace", NAMESPACE, check=False)
    return NAMESPACE


def body(description: str = '"d"', extra: str = "") -> bytes:
    """BASE as JSON text with ``spec.description`` spliced in raw (and ``extra`` spec keys)."""
    text = json.dumps(BASE)
    return text.replace(
        '"backend": "openclaw"', f'{extra}"description": {description}, "backend": "openclaw"'
    ).encode()


def server(api: Api, raw: bytes, validation: str = "Strict") -> Answer:
    return api.call("POST", PATH, raw=raw, query={"dryRun": "All", "fieldValidation": validation})


def check(tmp_path: Path, raw: bytes, validation: str = "Strict") -> tuple[int, dict[str, Any]]:
    path = tmp_path / "edge.json"
    path.write_bytes(raw)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = cli.main(["-o", "json", "--field-validation", validation, str(path)])
    return code, json.loads(out.getvalue() or "{}")


def check_messages(report: dict[str, Any]) -> tuple[bool, set[str], list[str]]:
    (result,) = report["results"]
    warnings = [w if isinstance(w, str) else w.get("message", "") for w in result["warnings"]]
    return bool(result["allowed"]), {v["message"] for v in result["violations"]}, warnings


def assert_same_verdict(api: Api, tmp_path: Path, raw: bytes, *, denied: bool = False) -> None:
    """`check` and the apiserver decide alike, with the same messages (both deny: ``denied``)."""
    answer = server(api, raw)
    _, report = check(tmp_path, raw)
    allowed, messages, _ = check_messages(report)
    assert allowed == answer.allowed and not (denied and allowed)
    assert messages == outcome_of(answer).messages, (answer.message, messages)


@pytest.mark.parametrize("validation", ["Strict", "Warn", "Ignore"])
def test_unknown_fields(api_admin: Api, ns: str, tmp_path: Path, validation: str) -> None:
    raw = body(extra='"bogus": 1, ')
    answer = server(api_admin, raw, validation)
    code, report = check(tmp_path, raw, validation)
    allowed, messages, warnings = check_messages(report)
    assert allowed == answer.allowed and code == (0 if allowed else 1)
    if validation == "Strict":
        assert messages == outcome_of(answer).messages == {'unknown field "spec.bogus"'}
    elif validation == "Warn":
        assert answer.warnings == ['unknown field "spec.bogus"']
        assert any('unknown field "spec.bogus"' in w for w in warnings), warnings
    else:
        assert answer.warnings == [] and not any("bogus" in w for w in warnings)


@pytest.mark.parametrize("validation", ["Strict", "Warn", "Ignore"])
def test_duplicate_keys(api_admin: Api, ns: str, tmp_path: Path, validation: str) -> None:
    raw = body(extra='"backend": "hermes", ')  # spec.backend twice: the last value wins
    answer = server(api_admin, raw, validation)
    _, report = check(tmp_path, raw, validation)
    allowed, messages, warnings = check_messages(report)
    assert allowed == answer.allowed, (answer.status, answer.message, report)
    if validation == "Strict":
        assert messages == outcome_of(answer).messages == {'duplicate field "spec.backend"'}
    elif validation == "Warn":
        assert answer.warnings == ['duplicate field "spec.backend"']
        assert any('duplicate field "spec.backend"' in w for w in warnings), warnings


@pytest.mark.parametrize(
    "number", ["9007199254740993", "9223372036854775808", "-9223372036854775809"]
)
def test_big_integers(api_admin: Api, ns: str, tmp_path: Path, number: str) -> None:
    raw = body(description=number)
    assert_same_verdict(api_admin, tmp_path, raw, denied=True)


@pytest.mark.parametrize(
    "number",
    [
        "1234567.5",
        "1234567.0",
        "7.068466144498585e+16",
        "1e-7",
        "0.0001",
        "[1, 70684661444985848, 1.5e300, 1e21, 2.5e-7, 18446744073709551616]",
    ],
)
def test_numbers_print_as_the_apiserver_prints_them(
    api_admin: Api, ns: str, tmp_path: Path, number: str
) -> None:
    """Go's %v and encoding/json print a float64 from its shortest digits (1.234567e+06,
    70684661444985850); an integer beyond int64 is decoded as a float64."""
    raw = body(description=number)
    assert_same_verdict(api_admin, tmp_path, raw, denied=True)


@pytest.mark.parametrize(
    "divisor", [2.0, 0.0, -3.0, 9007199254740991.0, 1.5, 9007199254740992.0, 1.0000000001]
)
def test_integral_floats_where_an_integer_is_expected(
    api_admin: Api, ns: str, divisor: float
) -> None:
    """kube-openapi takes a float64 holding an integer within +-(2**53 - 1) as an integer; other
    numbers in an int-or-string field are the documented anyOf difference (CRD rules only: the
    webhook refuses resourceFieldRef on substrate)."""
    obj = json.loads(json.dumps(BASE))
    ref = {"resource": "limits.cpu", "divisor": divisor}
    obj["spec"]["env"] = [{"name": "X", "valueFrom": {"resourceFieldRef": ref}}]
    theirs, _ = server_verdict(api_admin, obj, None, NAMESPACE)
    ours = engine_verdict(PolicyEngine.from_dir(), obj, None, NAMESPACE, webhook=False)
    assert theirs.allowed == (divisor == int(divisor) and abs(divisor) < 2**53)
    assert (
        agree(ours, theirs) or deviation(ours, theirs) == "int-or-string value of neither type"
    ), (
        ours,
        theirs,
    )


@pytest.mark.parametrize(
    "channels",
    [
        '["s", [1], 2]',
        "[null, null]",
        '[null, {"name": "a"}, {"name": "a"}]',
        "[{}, {}]",
        '[{"name": null}, {"name": null}]',
    ],
)
def test_list_map_items_that_are_not_objects(
    api_admin: Api, ns: str, tmp_path: Path, channels: str
) -> None:
    """Only the first item neither an object nor null is reported; null items (and null keys,
    pruned first) have no key."""
    raw = body(extra=f'"channels": {channels}, ')
    assert_same_verdict(api_admin, tmp_path, raw)


@pytest.mark.parametrize("levels", [50, 1000])
def test_deep_nesting(api_admin: Api, ns: str, tmp_path: Path, levels: int) -> None:
    nested = "[" * levels + '"x"' + "]" * levels
    raw = body(description=nested)
    answer = server(api_admin, raw)
    code, report = check(tmp_path, raw)
    allowed, messages, _ = check_messages(report)
    assert not answer.allowed and not allowed and code == 1
    assert messages == outcome_of(answer).messages, (answer.message, messages)


def test_request_size_limit(api_admin: Api, ns: str, tmp_path: Path) -> None:
    """Over 3 MiB the apiserver refuses the request itself (413); `check` refuses the input
    too (exit 2, an input error naming the limit), never a verdict."""
    raw = body(description=json.dumps("a" * (3 * 1024 * 1024 + 10)))
    answer = server(api_admin, raw)
    assert answer.status == 413, (answer.status, answer.message[:200])
    code, _ = check(tmp_path, raw)
    assert code == 2


@pytest.fixture(scope="module")
def api_admin(admin: Api) -> Api:
    return admin
