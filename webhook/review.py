"""Pure admission: a decoded AdmissionReview in, the AdmissionReview to send back out.

No I/O and no aiohttp here, so the whole verdict path is testable without a socket. The
verdict itself is the policy engine's (`shared.policy.engine`); this module only maps the
request onto ``engine.admit`` and the `Verdict` onto the apiserver's response shape: ``uid``
echoed, 422/``Invalid`` with every violation on denial, warnings, base64 JSON patch on mutate.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from shared.errors import InputError
from shared.policy.engine import FIELD_VALIDATIONS, PolicyEngine, split_api_version
from shared.policy.verdict import Verdict, Violation

API_VERSIONS: Final = frozenset({"admission.k8s.io/v1", "admission.k8s.io/v1beta1"})
OPERATIONS: Final = frozenset({"CREATE", "UPDATE", "DELETE", "CONNECT"})
OTHER: Final = "other"


class ReviewError(InputError):
    """The body is not an AdmissionReview request we can answer (HTTP 400)."""


@dataclass(frozen=True, slots=True)
class Request:
    """The parts of ``AdmissionReview.request`` admission needs."""

    api_version: str
    uid: str
    operation: str
    obj: dict[str, Any] | None
    old: dict[str, Any] | None
    namespace: str | None
    name: str
    dry_run: bool
    field_validation: str | None = None
    """``request.options.fieldValidation`` (Strict, Warn, Ignore) when the API server sent it."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """The response document plus bounded facts for metrics and logs."""

    body: dict[str, Any]
    kind: str
    """``AgentHarness``/``SandboxAgent`` or ``other`` (a bounded metric label)."""
    operation: str
    allowed: bool
    namespace: str
    name: str
    uid: str
    patched: bool = False
    rules: tuple[str, ...] = ()
    """Rule ids of the violations of a denial (a bounded metric label)."""


def _dict_or_none(value: Any, field: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ReviewError(f"request.{field} must be an object, got {type(value).__name__}")
    return value


def parse_request(data: Any) -> Request:
    """Check the envelope of a decoded AdmissionReview; raise `ReviewError` naming the field."""
    if not isinstance(data, dict):
        raise ReviewError("body must be a JSON object (an admission.k8s.io/v1 AdmissionReview)")
    if data.get("kind") != "AdmissionReview":
        raise ReviewError(f"kind must be AdmissionReview, got {str(data.get('kind'))[:64]!r}")
    api_version = data.get("apiVersion")
    if api_version not in API_VERSIONS:
        raise ReviewError(f"apiVersion must be admission.k8s.io/v1, got {str(api_version)[:64]!r}")
    req = data.get("request")
    if not isinstance(req, dict):
        raise ReviewError("request is required: an AdmissionReview sent by the API server")
    uid = req.get("uid")
    if not isinstance(uid, str) or not uid:
        raise ReviewError("request.uid is required (a non-empty string)")
    operation = req.get("operation")
    if operation not in OPERATIONS:
        raise ReviewError(
            f"request.operation must be one of CREATE, UPDATE, DELETE, CONNECT, got {str(operation)[:32]!r}"
        )
    obj = _dict_or_none(req.get("object"), "object")
    old = _dict_or_none(req.get("oldObject"), "oldObject")
    if operation in ("CREATE", "UPDATE") and obj is None:
        raise ReviewError(f"request.object is required for {operation}")
    namespace = req.get("namespace")
    name = req.get("name")
    return Request(
        api_version=str(api_version),
        uid=uid,
        operation=str(operation),
        obj=obj,
        old=old,
        namespace=namespace if isinstance(namespace, str) and namespace else None,
        name=name if isinstance(name, str) else "",
        dry_run=bool(req.get("dryRun")),
        field_validation=_field_validation(req.get("options")),
    )


def _field_validation(options: Any) -> str | None:
    """The request's fieldValidation; None (the engine's default, Strict) when absent."""
    mode = options.get("fieldValidation") if isinstance(options, dict) else None
    return mode if mode in FIELD_VALIDATIONS else None


def _with_kind(obj: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """The object, with apiVersion/kind from ``request.kind`` when it lacks them."""
    if obj.get("apiVersion") and obj.get("kind"):
        return obj
    gvk = data["request"].get("kind")
    if not isinstance(gvk, dict):
        return obj
    group, version = str(gvk.get("group") or ""), str(gvk.get("version") or "")
    return {
        **obj,
        "apiVersion": obj.get("apiVersion") or (f"{group}/{version}" if group else version),
        "kind": obj.get("kind") or str(gvk.get("kind") or ""),
    }


def _envelope(req: Request, response: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": req.api_version, "kind": "AdmissionReview", "response": response}


def _cause(v: Violation) -> dict[str, str]:
    message = v.message
    prefix = f"{v.path}: "
    if v.path and message.startswith(prefix):
        message = message[len(prefix) :]
    return {"reason": v.type, "message": message, "field": v.path}


def _denial(verdict: Verdict, obj: dict[str, Any], name: str) -> dict[str, Any]:
    kind = str(obj.get("kind", ""))
    group = split_api_version(str(obj.get("apiVersion", "")))[0]
    return {
        "metadata": {},
        "status": "Failure",
        "code": 422,
        "reason": "Invalid",
        "message": verdict.status_message(kind, group, name),
        "details": {
            "name": name,
            "group": group,
            "kind": kind,
            "causes": [_cause(v) for v in verdict.violations],
        },
    }


def _object_name(obj: dict[str, Any], req: Request) -> str:
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        for key in ("name", "generateName"):
            if isinstance(meta.get(key), str) and meta[key]:
                return str(meta[key])
    return req.name


def review(
    engine: PolicyEngine,
    data: Any,
    *,
    mutate: bool,
    duplicates: Callable[[Any], tuple[str, ...]] | None = None,
) -> Outcome:
    """Answer one AdmissionReview: validation (``mutate=False``) or mutation (``mutate=True``).

    ``duplicates`` maps ``request.object`` to the paths of fields its body gave twice.
    """
    req = parse_request(data)
    twice = duplicates(req.obj) if duplicates is not None and req.obj is not None else ()
    obj = req.obj if req.obj is not None else (req.old or {})
    obj = _with_kind(obj, data)
    name = _object_name(obj, req)
    namespace = req.namespace or engine.config.default_namespace
    # The request was decoded for this review alone: judge it in place (no deep copy).
    verdict = engine.admit(
        obj,
        old=req.old,
        operation=req.operation,
        namespace=req.namespace,
        copy=False,
        field_validation=req.field_validation,
        duplicates=twice,
    )
    kind = str(obj.get("kind", "")) if not verdict.skipped and obj.get("kind") else OTHER
    response: dict[str, Any] = {"uid": req.uid, "allowed": True}
    allowed, patched = True, False
    if mutate:
        if verdict.patch and req.obj is not None:
            raw = json.dumps(list(verdict.patch), separators=(",", ":")).encode()
            response["patchType"] = "JSONPatch"
            response["patch"] = base64.b64encode(raw).decode("ascii")
            patched = True
    else:
        allowed = verdict.allowed
        response["allowed"] = allowed
        if not allowed:
            response["status"] = _denial(verdict, obj, name)
        if verdict.warnings:
            response["warnings"] = list(verdict.warnings)
    return Outcome(
        body=_envelope(req, response),
        kind=kind,
        operation=req.operation,
        allowed=allowed,
        namespace=namespace,
        name=name,
        uid=req.uid,
        patched=patched,
        rules=() if allowed else tuple(v.rule for v in verdict.violations),
    )


def errored(data: Any, code: int, message: str) -> dict[str, Any]:
    """A denial that is not a verdict (deadline exceeded): ``status.code`` ``code``."""
    uid = ""
    api_version = "admission.k8s.io/v1"
    if isinstance(data, dict):
        req = data.get("request")
        if isinstance(req, dict) and isinstance(req.get("uid"), str):
            uid = req["uid"]
        if data.get("apiVersion") in API_VERSIONS:
            api_version = str(data["apiVersion"])
    return {
        "apiVersion": api_version,
        "kind": "AdmissionReview",
        "response": {
            "uid": uid,
            "allowed": False,
            "status": {
                "metadata": {},
                "status": "Failure",
                "code": code,
                "reason": "Timeout" if code == 504 else "InternalError",
                "message": message,
            },
        },
    }
