"""Every corpus case through the real server over HTTPS: the same verdict and messages as
`check`; mutate patches apply with an independent JSON-patch library and are idempotent."""

from __future__ import annotations

import base64
import contextlib
import io
import json
from typing import Any

import jsonpatch
import yaml

from shared.check import cli as check_cli
from tests.corpus_cases import Case, cases
from tests.integration.webhook.conftest import Webhook, admission_review

CASES = [c for c in cases() if c.expect != "error"]


def _load(path: Any) -> dict[str, Any]:
    docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if isinstance(d, dict)]
    assert len(docs) == 1, f"{path}: expected one document"
    return docs[0]


def _check(case: Case) -> dict[str, Any]:
    argv = ["-o", "json", str(case.path)]
    if case.old is not None:
        argv += ["--old", str(case.old)]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        check_cli.main(argv)
    results = json.loads(out.getvalue())["results"]
    assert len(results) == 1, results
    return dict(results[0])


def _messages(response: dict[str, Any]) -> list[str]:
    causes = (response.get("status") or {}).get("details", {}).get("causes", [])
    return [f"{c['field']}: {c['message']}" if c["field"] else c["message"] for c in causes]


def _patched(obj: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    if "patch" not in response:
        return obj
    assert response["patchType"] == "JSONPatch"
    ops = json.loads(base64.b64decode(response["patch"]))
    return dict(jsonpatch.apply_patch(obj, ops))


async def test_every_corpus_case_matches_check(webhook: Webhook) -> None:
    assert len(CASES) >= 100
    failures: list[str] = []
    patched_cases = 0
    for case in CASES:
        obj = _load(case.path)
        old = _load(case.old) if case.old is not None else None
        operation = "UPDATE" if old is not None else "CREATE"
        expected = _check(case)
        resp = await webhook.review(
            "/validate", admission_review(obj, old=old, operation=operation)
        )
        got = _messages(resp)
        want = [v["message"] for v in expected["violations"]]
        if resp["allowed"] != expected["allowed"] or got != want:
            failures.append(f"{case.id}: allowed={resp['allowed']} {got} != {want}")
            continue
        if resp.get("warnings", []) != expected["warnings"]:
            failures.append(f"{case.id}: warnings {resp.get('warnings')} != {expected['warnings']}")
        if not resp["allowed"]:
            status = resp["status"]
            assert status["code"] == 422 and status["reason"] == "Invalid", status
            assert status["message"].count(":") >= len(want)
            for message in want:
                assert message in status["message"], (case.id, message)

        mutated = await webhook.review(
            "/mutate", admission_review(obj, old=old, operation=operation)
        )
        if not mutated["allowed"]:
            failures.append(f"{case.id}: /mutate denied")
            continue
        patched = _patched(obj, mutated)
        patched_cases += "patch" in mutated
        again = await webhook.review(
            "/mutate", admission_review(patched, old=old, operation=operation)
        )
        if "patch" in again:
            failures.append(f"{case.id}: second /mutate pass patched again")
        recheck = await webhook.review(
            "/validate", admission_review(patched, old=old, operation=operation)
        )
        if recheck["allowed"] != expected["allowed"] or _messages(recheck) != want:
            failures.append(f"{case.id}: verdict changed after applying the patch")
    assert not failures, "\n".join(failures)
    assert patched_cases >= 10, "the corpus should exercise the pinning mutation"
