"""Calling admission webhooks as the apiserver does: matching, HTTPS with caBundle, deadlines.

A webhook is matched by rules, namespaceSelector, objectSelector and matchConditions (CEL,
evaluated with cel-python), then called with an ``admission.k8s.io/v1`` AdmissionReview.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp
import celpy

from devstack.kubeapi.errors import ApiError
from devstack.kubeapi.selectors import label_selector_object

MAX_RESPONSE_BYTES = 3 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Request:
    """What admission knows about one write (an AdmissionRequest before serialization)."""

    operation: str
    group: str
    version: str
    kind: str
    resource: str
    subresource: str
    namespaced: bool
    namespace: str
    name: str
    obj: dict[str, Any] | None
    old: dict[str, Any] | None
    user: dict[str, Any]
    dry_run: bool
    namespace_labels: dict[str, str]

    def review(self, obj: dict[str, Any] | None) -> dict[str, Any]:
        """The AdmissionReview sent to a webhook."""
        gvk = {"group": self.group, "version": self.version, "kind": self.kind}
        gvr = {"group": self.group, "version": self.version, "resource": self.resource}
        options_kind = {
            "CREATE": "CreateOptions",
            "UPDATE": "UpdateOptions",
            "DELETE": "DeleteOptions",
        }
        request: dict[str, Any] = {
            "uid": str(uuid.uuid4()),
            "kind": gvk,
            "resource": gvr,
            "requestKind": gvk,
            "requestResource": gvr,
            "name": self.name,
            "operation": self.operation,
            "userInfo": self.user,
            "object": obj,
            "oldObject": self.old,
            "dryRun": self.dry_run,
            "options": {
                "kind": options_kind.get(self.operation, "CreateOptions"),
                "apiVersion": "meta.k8s.io/v1",
            },
        }
        if self.subresource:
            request["subResource"] = self.subresource
        if self.namespaced:
            request["namespace"] = self.namespace
        return {"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1", "request": request}


def _resource_matches(patterns: list[str], resource: str, subresource: str) -> bool:
    for pattern in patterns:
        res, _, sub = pattern.partition("/")
        if pattern == "*/*":
            return True
        if res in ("*", resource) and (
            (not sub and not subresource) or (sub in ("*", subresource) and subresource)
        ):
            return True
    return False


def rules_match(hook: dict[str, Any], req: Request) -> bool:
    """Whether any rule of the webhook matches the request."""
    for rule in hook.get("rules") or []:
        ops = rule.get("operations") or []
        if "*" not in ops and req.operation not in ops:
            continue
        if not {"*", req.group} & set(rule.get("apiGroups") or []):
            continue
        if not {"*", req.version} & set(rule.get("apiVersions") or []):
            continue
        if not _resource_matches(rule.get("resources") or [], req.resource, req.subresource):
            continue
        scope = rule.get("scope", "*")
        if (scope == "Cluster" and req.namespaced) or (
            scope == "Namespaced" and not req.namespaced
        ):
            continue
        return True
    return False


def selectors_match(hook: dict[str, Any], req: Request) -> bool:
    """namespaceSelector and objectSelector, as the apiserver applies them."""
    ns_match = label_selector_object(hook.get("namespaceSelector"))
    if (req.namespaced or req.resource == "namespaces") and not ns_match(req.namespace_labels):
        return False
    obj_match = label_selector_object(hook.get("objectSelector"))
    labels = [
        ((o or {}).get("metadata") or {}).get("labels") or {} for o in (req.obj, req.old) if o
    ]
    return any(obj_match(lb) for lb in labels) if labels else obj_match({})


class WebhookCaller:
    """Calls webhooks over HTTPS; owns one client session and compiled matchConditions."""

    def __init__(self, *, service_map: dict[str, str], default_timeout: float = 10.0) -> None:
        self._service_map = service_map
        self._default_timeout = default_timeout
        self._session: aiohttp.ClientSession | None = None
        self._ssl: dict[str, ssl.SSLContext] = {}
        self._cel = celpy.Environment()
        self._programs: dict[str, Any] = {}

    async def close(self) -> None:
        """Close the client session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def conditions_match(self, hook: dict[str, Any], review: dict[str, Any]) -> bool:
        """Evaluate matchConditions; raise ValueError when one cannot be evaluated."""
        conditions = hook.get("matchConditions") or []
        if not conditions:
            return True
        req = review["request"]
        activation = {
            "object": celpy.json_to_cel(req.get("object")),
            "oldObject": celpy.json_to_cel(req.get("oldObject")),
            "request": celpy.json_to_cel(req),
        }
        for cond in conditions:
            expr = cond.get("expression", "")
            program = self._programs.get(expr)
            try:
                if program is None:
                    program = self._cel.program(self._cel.compile(expr))
                    self._programs[expr] = program
                result = program.evaluate(activation)
            except Exception as exc:  # celpy raises its own parse/eval errors
                raise ValueError(f"matchCondition {cond.get('name')!r}: {exc}") from exc
            if isinstance(result, celpy.CELEvalError):
                raise ValueError(f"matchCondition {cond.get('name')!r}: {result}")
            if not bool(result):
                return False
        return True

    def _url(self, hook: dict[str, Any]) -> str:
        cc = hook.get("clientConfig") or {}
        if cc.get("url"):
            return str(cc["url"])
        svc = cc.get("service") or {}
        key = f"{svc.get('namespace', '')}/{svc.get('name', '')}"
        address = self._service_map.get(key)
        if address is None:
            raise ValueError(
                f'service "{key}" has no address in the devstack; start it with '
                f"--webhook-service {key}=HOST:PORT or use clientConfig.url"
            )
        path = svc.get("path") or "/"
        if svc.get("port") and ":" not in address:
            address = f"{address}:{svc['port']}"
        return f"https://{address}{path}"

    def _context(self, hook: dict[str, Any]) -> ssl.SSLContext:
        bundle = str((hook.get("clientConfig") or {}).get("caBundle") or "")
        ctx = self._ssl.get(bundle)
        if ctx is None:
            if bundle:
                pem = base64.b64decode(bundle).decode()
                ctx = ssl.create_default_context(cadata=pem)
            else:
                ctx = ssl.create_default_context()
            self._ssl[bundle] = ctx
        return ctx

    async def call(self, hook: dict[str, Any], review: dict[str, Any]) -> dict[str, Any]:
        """POST the review; return its ``response``; raise ValueError on any failure."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        url = self._url(hook)
        timeout = float(hook.get("timeoutSeconds") or self._default_timeout)
        try:
            async with self._session.post(
                url,
                json=review,
                ssl=self._context(hook),
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as resp:
                if resp.status != 200:
                    text = (await resp.content.read(256)).decode(errors="replace")
                    raise ValueError(
                        f"received invalid webhook response: HTTP {resp.status}: {text}"
                    )
                body = await resp.content.read(MAX_RESPONSE_BYTES)
                data = await asyncio.to_thread(_decode, body)
        except TimeoutError as exc:
            raise ValueError(
                f'failed to call webhook: Post "{url}": context deadline exceeded'
            ) from exc
        except (aiohttp.ClientError, ssl.SSLError, OSError) as exc:
            raise ValueError(f'failed to call webhook: Post "{url}": {exc}') from exc
        response = data.get("response") if isinstance(data, dict) else None
        if not isinstance(response, dict):
            raise ValueError("received invalid webhook response: no response field")
        if response.get("uid") != review["request"]["uid"]:
            raise ValueError(
                f"expected response.uid={review['request']['uid']!r}, got {response.get('uid')!r}"
            )
        return response


def _decode(body: bytes) -> Any:
    import json

    try:
        return json.loads(body)
    except ValueError as exc:
        raise ValueError(f"received invalid webhook response: {exc}") from exc


def denial(name: str, response: dict[str, Any]) -> ApiError:
    """The apiserver's ``ToStatusErr``: the error a client sees for a webhook denial."""
    result = response.get("status") or {}
    code = int(result.get("code") or 0)
    if code < 400:
        code = 400
    denied_by = f'admission webhook "{name}" denied the request'
    if result.get("message"):
        message = f"{denied_by}: {result['message']}"
    elif result.get("reason"):
        message = f"{denied_by}: {result['reason']}"
    else:
        message = f"{denied_by} without explanation"
    return ApiError(code, str(result.get("reason") or ""), message, details=result.get("details"))


def call_failure(name: str, why: str) -> ApiError:
    """500 for a webhook that could not be called under failurePolicy Fail."""
    message = f'failed calling webhook "{name}": {why}'
    return ApiError(
        500,
        "InternalError",
        f"Internal error occurred: {message}",
        details={"causes": [{"message": message}]},
    )
