"""Admission in the apiserver's order: decode+default, mutating webhooks (with reinvocation),
schema + CEL validation (the policy engine via `crdschema`), validating webhooks.

Field validation follows the ``fieldValidation`` query parameter: Strict rejects unknown
fields (400, strict decoding error), Warn (the default) prunes them with a warning, Ignore
prunes them silently.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import dataclasses
import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from devstack.kubeapi.crdschema import CRDSchema
from devstack.kubeapi.errors import ApiError, bad_request, invalid
from devstack.kubeapi.patching import json_patch
from devstack.kubeapi.resources import MUTATING_KEY, REVIEW_KEYS, VALIDATING_KEY, ResourceType
from devstack.kubeapi.storage import Store
from devstack.kubeapi.webhooks import (
    Request,
    WebhookCaller,
    call_failure,
    denial,
    rules_match,
    selectors_match,
)

log = logging.getLogger(__name__)

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SKIP_WEBHOOKS = {MUTATING_KEY, VALIDATING_KEY, *REVIEW_KEYS}


@dataclass(slots=True)
class Outcome:
    """The admitted object and the warnings to send back."""

    obj: dict[str, Any] | None
    warnings: list[str] = field(default_factory=list)


def validate_name(rt: ResourceType, name: str) -> str | None:
    """The apiserver's metadata.name message for a bad built-in name, else None."""
    if rt.kind == "Namespace":
        if len(name) > 63 or not _LABEL.match(name):
            return (
                f'metadata.name: Invalid value: "{name}": a lowercase RFC 1123 label must consist of lower '
                "case alphanumeric characters or '-', and must start and end with an alphanumeric "
                "character (e.g. 'my-name',  or '123-abc', regex used for validation is "
                "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
            )
        return None
    if len(name) > 253 or not _SUBDOMAIN.match(name):
        return (
            f'metadata.name: Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower '
            "case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
            "character (e.g. 'example.com', regex used for validation is "
            "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        )
    return None


class Admission:
    """Runs admission for one write."""

    def __init__(
        self, store: Store, schemas: dict[tuple[str, str], CRDSchema], caller: WebhookCaller
    ) -> None:
        self._store = store
        self._schemas = schemas
        self._caller = caller

    def decode(
        self,
        rt: ResourceType,
        version: str,
        obj: dict[str, Any],
        field_validation: str,
        out: Outcome,
    ) -> None:
        """Prune unknown fields (per fieldValidation) and apply defaults, in place."""
        schema = self._schemas.get(rt.key) if rt.custom else None
        if schema is None:
            return
        unknown = schema.prune(version, obj)
        if unknown and field_validation == "Strict":
            fields = ", ".join(f'unknown field "{p}"' for p in unknown)
            raise bad_request(
                f'{rt.kind} in version "{version}" cannot be handled as a {rt.kind}: strict decoding error: {fields}'
            )
        if unknown and field_validation != "Ignore":
            out.warnings.extend(f'unknown field "{p}"' for p in unknown)
        schema.default(version, obj)

    def validate(
        self, rt: ResourceType, version: str, obj: dict[str, Any], old: dict[str, Any] | None
    ) -> None:
        """Schema + CEL for custom resources, name rules for built-ins; 422 on violations."""
        name = obj["metadata"].get("name", "")
        schema = self._schemas.get(rt.key) if rt.custom else None
        if schema is not None:
            result = schema.validate(version, obj, old)
            if result is not None:
                raise invalid(rt.kind, rt.group, name, result.causes, result.message)
            if schema.engine_backed:
                return
        if old is None and (msg := validate_name(rt, name)):
            qualified = f"{rt.kind}.{rt.group}" if rt.group else rt.kind
            cause = {
                "reason": "FieldValueInvalid",
                "message": msg.split(": ", 1)[1],
                "field": "metadata.name",
            }
            raise invalid(
                rt.kind, rt.group, name, [cause], f'{qualified} "{name}" is invalid: {msg}'
            )

    async def admit(
        self,
        rt: ResourceType,
        version: str,
        req: Request,
        *,
        field_validation: str = "Warn",
    ) -> Outcome:
        """Full admission of a CREATE/UPDATE (object) or DELETE (oldObject only)."""
        out = Outcome(copy.deepcopy(req.obj) if req.obj is not None else None)
        if out.obj is not None:
            self.decode(rt, version, out.obj, field_validation, out)
        hooks = rt.key not in _SKIP_WEBHOOKS
        if hooks and out.obj is not None:
            out.obj = await self._mutate(rt, version, req, out)
        if out.obj is not None:
            self.validate(rt, version, out.obj, req.old)
        if hooks:
            await self._validating(req, out)
        return out

    def _hooks(self, key: tuple[str, str]) -> list[dict[str, Any]]:
        found = []
        for cfg in self._store.list(key):
            if cfg["metadata"].get("deletionTimestamp"):
                continue
            found.extend(cfg.get("webhooks") or [])
        return found

    async def _call(
        self, hook: dict[str, Any], req: Request, obj: dict[str, Any] | None, out: Outcome
    ) -> dict[str, Any] | None:
        """Call one webhook if it matches; returns its response (None when skipped or ignored)."""
        if not rules_match(hook, req) or not selectors_match(hook, req):
            return None
        name = str(hook.get("name", ""))
        fail = hook.get("failurePolicy", "Fail") == "Fail"
        review = req.review(obj)
        try:
            if not self._caller.conditions_match(hook, review):
                return None
            response = await self._caller.call(hook, review)
        except ValueError as exc:
            if fail:
                raise call_failure(name, str(exc)) from exc
            log.warning("webhook %s ignored after failure: %s", name, exc)
            return None
        out.warnings.extend(str(w) for w in response.get("warnings") or [])
        if not response.get("allowed"):
            raise denial(name, response)
        return response

    async def _mutate(
        self, rt: ResourceType, version: str, req: Request, out: Outcome
    ) -> dict[str, Any] | None:
        obj = out.obj
        called_if_needed: list[dict[str, Any]] = []
        changed_after: set[str] = set()
        for hook in self._hooks(MUTATING_KEY):
            obj, changed = await self._mutate_one(hook, rt, version, req, obj, out)
            if changed:
                changed_after = {h["name"] for h in called_if_needed if h is not hook}
            if hook.get("reinvocationPolicy") == "IfNeeded":
                called_if_needed.append(hook)
        for hook in called_if_needed:
            if hook["name"] in changed_after:
                obj, _ = await self._mutate_one(hook, rt, version, req, obj, out)
        return obj

    async def _mutate_one(
        self,
        hook: dict[str, Any],
        rt: ResourceType,
        version: str,
        req: Request,
        obj: dict[str, Any] | None,
        out: Outcome,
    ) -> tuple[dict[str, Any] | None, bool]:
        response = await self._call(hook, req, obj, out)
        if response is None or not response.get("patch"):
            return obj, False
        try:
            ops = json.loads(base64.b64decode(response["patch"]))
            patched = json_patch(obj, ops)
        except (ValueError, ApiError) as exc:
            raise call_failure(str(hook.get("name")), f"invalid patch: {exc}") from exc
        self.decode(rt, version, patched, "Ignore", Outcome(None))
        return patched, patched != obj

    async def _validating(self, req: Request, out: Outcome) -> None:
        hooks = self._hooks(VALIDATING_KEY)
        if not hooks:
            return
        final = dataclasses.replace(req, obj=out.obj)
        results = await asyncio.gather(
            *(self._call(h, final, out.obj, out) for h in hooks), return_exceptions=True
        )
        for res in results:
            if isinstance(res, BaseException):
                raise res
