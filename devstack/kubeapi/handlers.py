"""The REST verbs on one resource: get, list, watch, create, update, patch, delete.

Objects are stored in the version they were written in and served with the requested
``apiVersion`` (no conversion: CRD versions are assumed schema-compatible), except Events:
``events.k8s.io/v1`` shares the core ``v1`` storage and is converted (`devstack.kubeapi.events`).
"""

from __future__ import annotations

import base64
import copy
import json
import secrets
import uuid
from typing import Any

from aiohttp import web

from devstack.kubeapi import auth as authn
from devstack.kubeapi import events
from devstack.kubeapi.auth import User
from devstack.kubeapi.deletion import NAMESPACE_FINALIZER, begin_delete, finish_if_done, now_rfc3339
from devstack.kubeapi.errors import (
    ApiError,
    already_exists,
    bad_request,
    conflict,
    forbidden,
    gone,
    method_not_allowed,
    not_found,
    success_status,
)
from devstack.kubeapi.limits import check_stored_size, too_large_request
from devstack.kubeapi.patching import APPLY_PATCH, JSON_PATCH, MERGE_PATCH, apply_patch
from devstack.kubeapi.resources import CRD_KEY, NAMESPACE_KEY, ResourceType
from devstack.kubeapi.routing import Target
from devstack.kubeapi.selectors import object_matcher
from devstack.kubeapi.state import ApiState
from devstack.kubeapi.tables import to_table
from devstack.kubeapi.watch import WatchRequest, serve_watch
from devstack.kubeapi.webhooks import Request

_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"
_SERVER_META = (
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
)


def _warning_headers(warnings: list[str]) -> list[tuple[str, str]]:
    out = []
    for w in warnings:
        text = w.replace("\\", "\\\\").replace('"', '\\"')
        out.append(("Warning", f'299 - "{text}"'))
    return out


def json_response(body: Any, status: int = 200, warnings: list[str] | None = None) -> web.Response:
    """A JSON response with optional Warning headers."""
    resp = web.Response(
        body=json.dumps(body, separators=(",", ":")).encode(),
        status=status,
        content_type="application/json",
    )
    for name, value in _warning_headers(warnings or []):
        resp.headers.add(name, value)
    return resp


def _spec_part(obj: dict[str, Any], status_sub: bool) -> dict[str, Any]:
    skip = {"metadata", "status"} if status_sub else {"metadata"}
    return {k: v for k, v in obj.items() if k not in skip}


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    def strip(o: dict[str, Any]) -> dict[str, Any]:
        meta = {
            k: v for k, v in o["metadata"].items() if k not in ("resourceVersion", "managedFields")
        }
        return {**o, "metadata": meta}

    return strip(a) == strip(b)


def _fold_string_data(obj: dict[str, Any]) -> None:
    """Secrets: merge ``stringData`` into base64 ``data`` and drop it, as the apiserver does."""
    string_data = obj.pop("stringData", None)
    if obj.get("kind") != "Secret" or not isinstance(string_data, dict):
        return
    data = obj.setdefault("data", {}) or {}
    for key, value in string_data.items():
        data[key] = base64.b64encode(str(value).encode("utf-8")).decode("ascii")
    obj["data"] = data


def _flag(value: str | None) -> bool:
    """A boolean query parameter (clients send ``true``, ``True`` or ``1``)."""
    return (value or "").lower() in ("true", "1")


class ResourceHandlers:
    """Verb handlers sharing one `ApiState`."""

    def __init__(self, state: ApiState) -> None:
        self.s = state

    # helpers
    def render(self, rt: ResourceType, version: str, obj: dict[str, Any]) -> dict[str, Any]:
        """The object as served in ``version``."""
        api_version = rt.api_version(version)
        if events.is_events_api(rt.key):
            return events.from_core(obj, api_version)
        if obj.get("apiVersion") == api_version and obj.get("kind") == rt.kind:
            return obj
        return {**obj, "apiVersion": api_version, "kind": rt.kind}

    @staticmethod
    def _to_store(rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        """The object in the form its storage holds (events.k8s.io Events: core v1)."""
        return events.to_core(obj) if events.is_events_api(rt.key) else obj

    @staticmethod
    def _matcher(rt: ResourceType, request: web.Request) -> Any:
        q = request.query
        fields = events.field_selector(rt.key, q.get("fieldSelector"))
        return object_matcher(q.get("labelSelector"), fields)

    def _user_info(self, user: User) -> dict[str, Any]:
        return user.info()

    def _get_or_404(self, t: Target) -> dict[str, Any]:
        obj = self.s.store.get(t.rt.store_key, (t.namespace or "", t.name or ""))
        if obj is None:
            raise not_found(t.rt.plural, t.rt.group, t.name or "")
        return obj

    def _request(
        self,
        t: Target,
        op: str,
        obj: dict[str, Any] | None,
        old: dict[str, Any] | None,
        user: User,
        dry: bool,
    ) -> Request:
        ref = obj or old or {}
        meta = ref.get("metadata") or {}
        ns_name = meta.get("name", "") if t.rt.key == NAMESPACE_KEY else (t.namespace or "")
        if t.rt.key == NAMESPACE_KEY:
            labels = meta.get("labels") or {}
        else:
            ns = self.s.store.get(NAMESPACE_KEY, ("", ns_name))
            labels = ((ns or {}).get("metadata") or {}).get("labels") or {}
        return Request(
            operation=op,
            group=t.rt.group,
            version=t.version,
            kind=t.rt.kind,
            resource=t.rt.plural,
            subresource=t.subresource,
            namespaced=t.rt.namespaced,
            namespace=t.namespace or "",
            name=meta.get("name", "") or (t.name or ""),
            obj=obj,
            old=old,
            user=self._user_info(user),
            dry_run=dry,
            namespace_labels=labels,
        )

    @staticmethod
    async def _body(request: web.Request) -> Any:
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise too_large_request() from None
        try:
            return json.loads(raw) if raw else None
        except ValueError as exc:
            raise bad_request(f"the request body is not valid JSON: {exc}") from exc

    @staticmethod
    def _dry(request: web.Request) -> bool:
        return "All" in request.query.getall("dryRun", [])

    @staticmethod
    def _field_validation(request: web.Request) -> str:
        value = request.query.get("fieldValidation", "Warn") or "Warn"
        if value not in ("Strict", "Warn", "Ignore"):
            raise bad_request(
                f"fieldValidation parameter unsupported: {value}. Supported values: Ignore, Warn, Strict"
            )
        return value

    def _wants_table(self, request: web.Request) -> bool:
        return "as=Table" in request.headers.get("Accept", "")

    def _wants_metadata(self, request: web.Request) -> bool:
        return "as=PartialObjectMetadata" in request.headers.get("Accept", "")

    def _metadata_only(self, obj: dict[str, Any]) -> dict[str, Any]:
        return {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": obj["metadata"],
        }

    # reads
    async def get(self, request: web.Request, t: Target) -> web.StreamResponse:
        """GET one object (or its status)."""
        obj = self.render(t.rt, t.version, self._get_or_404(t))
        if self._wants_table(request):
            return json_response(
                to_table(
                    t.rt,
                    t.version,
                    [obj],
                    include_object=request.query.get("includeObject", "Metadata"),
                )
            )
        if self._wants_metadata(request):
            return json_response(self._metadata_only(obj))
        return json_response(obj)

    async def list(self, request: web.Request, t: Target) -> web.StreamResponse:
        """GET a collection (selectors, limit/continue) or a watch."""
        q = request.query
        matcher = self._matcher(t.rt, request)
        if _flag(q.get("watch")):
            return await self.watch(request, t, matcher)
        items = [o for o in self.s.store.list(t.rt.store_key, t.namespace) if matcher(o)]
        meta: dict[str, Any] = {"resourceVersion": str(self.s.store.rv)}
        token = q.get("continue")
        if token:
            try:
                start = json.loads(base64.urlsafe_b64decode(token.encode()))
                after = (start["k"][0], start["k"][1])
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                raise bad_request(f"continue key is not valid: {exc}") from exc
            if int(start.get("rv", 0)) < self.s.store.horizon(t.rt.store_key):
                raise gone(
                    "The provided continue parameter is too old to display a consistent list result. "
                    "You can start a new list without the continue parameter."
                )
            items = [
                o
                for o in items
                if (o["metadata"].get("namespace", ""), o["metadata"]["name"]) > after
            ]
        limit = int(q.get("limit") or 0)
        if limit > 0 and len(items) > limit:
            last = items[limit - 1]["metadata"]
            meta["continue"] = base64.urlsafe_b64encode(
                json.dumps(
                    {"k": [last.get("namespace", ""), last["name"]], "rv": self.s.store.rv}
                ).encode()
            ).decode()
            meta["remainingItemCount"] = len(items) - limit
            items = items[:limit]
        rendered = [self.render(t.rt, t.version, o) for o in items]
        if self._wants_table(request):
            return json_response(
                to_table(
                    t.rt,
                    t.version,
                    rendered,
                    include_object=q.get("includeObject", "Metadata"),
                    list_meta=meta,
                )
            )
        if self._wants_metadata(request):
            return json_response(
                {
                    "kind": "PartialObjectMetadataList",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": meta,
                    "items": [self._metadata_only(o) for o in rendered],
                }
            )
        return json_response(
            {
                "kind": t.rt.list_kind,
                "apiVersion": t.rt.api_version(t.version),
                "metadata": meta,
                "items": rendered,
            }
        )

    async def watch(self, request: web.Request, t: Target, matcher: Any) -> web.StreamResponse:
        """A watch stream."""
        q = request.query
        if t.name is not None:
            name, inner = t.name, matcher
            matcher = lambda o: o["metadata"].get("name") == name and inner(o)  # noqa: E731
        table = self._wants_table(request)
        first = [True]

        def render(obj: dict[str, Any]) -> dict[str, Any]:
            out = self.render(t.rt, t.version, obj)
            if table:
                out = to_table(
                    t.rt,
                    t.version,
                    [out],
                    include_object=q.get("includeObject", "Metadata"),
                    with_definitions=first[0],
                )
                first[0] = False
            elif self._wants_metadata(request):
                out = self._metadata_only(out)
            return out

        try:
            timeout = float(q.get("timeoutSeconds") or 1800)
        except ValueError as exc:
            raise bad_request("timeoutSeconds must be a number") from exc
        wr = WatchRequest(
            rkey=t.rt.store_key,
            kind=t.rt.kind,
            api_version=t.rt.api_version(t.version),
            namespace=t.namespace,
            matcher=matcher,
            resource_version=q.get("resourceVersion", ""),
            bookmarks=_flag(q.get("allowWatchBookmarks")),
            send_initial_events=_flag(q.get("sendInitialEvents")),
            timeout=timeout,
        )
        return await serve_watch(
            request,
            self.s.hub,
            self.s.store,
            wr,
            render,
            bookmark_interval=self.s.config.bookmark_interval,
        )

    # writes
    async def create(self, request: web.Request, t: Target, user: User) -> web.StreamResponse:
        """POST a new object."""
        if t.name is not None:
            raise method_not_allowed()
        body = await self._body(request)
        if not isinstance(body, dict):
            raise bad_request("the request body must be a JSON object")
        if t.rt.key == ("authentication.k8s.io", "tokenreviews"):
            return json_response(authn.token_review(self.s.auth, body), 201)
        if t.rt.key == ("authorization.k8s.io", "subjectaccessreviews"):
            return json_response(authn.subject_access_review(self.s.auth, body), 201)
        obj = copy.deepcopy(body)
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise bad_request("metadata must be an object")
        if obj.get("kind") and obj["kind"] != t.rt.kind:
            raise bad_request(
                f"the kind in the data ({obj['kind']}) does not match the kind of the URL ({t.rt.kind})"
            )
        obj["kind"], obj["apiVersion"] = t.rt.kind, t.rt.api_version(t.version)
        _fold_string_data(obj)
        if t.rt.namespaced:
            if meta.get("namespace") and meta["namespace"] != t.namespace:
                raise bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = t.namespace
            ns = self.s.store.get(NAMESPACE_KEY, ("", t.namespace or ""))
            if ns is None:
                raise not_found("namespaces", "", t.namespace or "")
            if ns["metadata"].get("deletionTimestamp"):
                raise forbidden(
                    f'{t.rt.plural} "{meta.get("name") or meta.get("generateName", "")}" is forbidden: unable to create new '
                    f"content in namespace {t.namespace} because it is being terminated"
                )
        else:
            meta.pop("namespace", None)
        if not meta.get("name"):
            if not meta.get("generateName"):
                raise ApiError(
                    422,
                    "Invalid",
                    f'{t.rt.kind} "" is invalid: metadata.name: Required value: name or generateName is required',
                    details={
                        "kind": t.rt.kind,
                        "group": t.rt.group,
                        "causes": [
                            {
                                "reason": "FieldValueRequired",
                                "message": "Required value: name or generateName is required",
                                "field": "metadata.name",
                            }
                        ],
                    },
                )
            meta["name"] = meta["generateName"] + "".join(
                secrets.choice(_NAME_CHARS) for _ in range(5)
            )
        for key in (
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "managedFields",
        ):
            meta.pop(key, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_rfc3339()
        meta["generation"] = 1
        if t.rt.status_subresource:
            obj.pop("status", None)
        if t.rt.key == NAMESPACE_KEY:
            obj["spec"] = {"finalizers": [NAMESPACE_FINALIZER]}
            obj["status"] = {"phase": "Active"}
            meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
        if self.s.store.get(t.rt.store_key, (t.namespace or "", meta["name"])) is not None:
            raise already_exists(t.rt.plural, t.rt.group, meta["name"])
        if t.rt.key == CRD_KEY:
            self.s.crds.prepare(obj)
        dry = self._dry(request)
        out = await self.s.admission.admit(
            t.rt,
            t.version,
            self._request(t, "CREATE", obj, None, user, dry),
            field_validation=self._field_validation(request),
        )
        assert out.obj is not None
        if self.s.store.get(t.rt.store_key, (t.namespace or "", meta["name"])) is not None:
            raise already_exists(t.rt.plural, t.rt.group, meta["name"])
        check_stored_size(out.obj)
        stored = self._to_store(t.rt, out.obj)
        stored = stored if dry else self.s.store.put(t.rt.store_key, stored)
        return json_response(self.render(t.rt, t.version, stored), 201, out.warnings)

    def _merge_for_write(
        self, t: Target, new: dict[str, Any], current: dict[str, Any]
    ) -> dict[str, Any]:
        """Apply subresource and server-owned-field rules to a full new object."""
        if not isinstance(new, dict) or not isinstance(new.get("metadata", {}), dict):
            raise bad_request("the request body must be a JSON object with metadata")
        if t.subresource == "status":
            merged = copy.deepcopy(current)
            if "status" in new:
                merged["status"] = new["status"]
            else:
                merged.pop("status", None)
            return merged
        new = copy.deepcopy(new)
        meta = new.setdefault("metadata", {})
        if meta.get("name") and meta["name"] != t.name:
            raise bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL ({t.name})"
            )
        if t.rt.namespaced and meta.get("namespace") and meta["namespace"] != t.namespace:
            raise bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        meta["name"] = t.name
        if t.rt.namespaced:
            meta["namespace"] = t.namespace
        for key in _SERVER_META:
            if key in current["metadata"]:
                meta[key] = current["metadata"][key]
            else:
                meta.pop(key, None)
        if current["metadata"].get("deletionTimestamp"):
            added = set(meta.get("finalizers") or []) - set(
                current["metadata"].get("finalizers") or []
            )
            if added:
                raise forbidden(
                    f"no new finalizers can be added if the object is being deleted, found new finalizers {sorted(added)!r}"
                )
        new["kind"], new["apiVersion"] = t.rt.kind, t.rt.api_version(t.version)
        if t.rt.status_subresource:
            if "status" in current:
                new["status"] = current["status"]
            else:
                new.pop("status", None)
        if t.rt.key == NAMESPACE_KEY:
            new["spec"] = current.get("spec", {})
        _fold_string_data(new)
        return new

    async def _write(
        self,
        request: web.Request,
        t: Target,
        new: dict[str, Any],
        current: dict[str, Any],
        user: User,
    ) -> tuple[dict[str, Any], list[str], bool]:
        """Admission and commit of an update; returns (object, warnings, committed?)."""
        if t.rt.key == CRD_KEY:
            self.s.crds.prepare(new)
        dry = self._dry(request)
        out = await self.s.admission.admit(
            t.rt,
            t.version,
            self._request(t, "UPDATE", new, self.render(t.rt, t.version, current), user, dry),
            field_validation=self._field_validation(request),
        )
        assert out.obj is not None
        obj = self._to_store(t.rt, out.obj)
        latest = self.s.store.get(t.rt.store_key, (t.namespace or "", t.name or ""))
        if latest is None:
            raise not_found(t.rt.plural, t.rt.group, t.name or "")
        if latest["metadata"]["resourceVersion"] != current["metadata"]["resourceVersion"]:
            raise conflict(t.rt.plural, t.rt.group, t.name or "")
        if _spec_part(obj, t.rt.status_subresource) != _spec_part(current, t.rt.status_subresource):
            obj["metadata"]["generation"] = int(current["metadata"].get("generation") or 1) + 1
        if _same(obj, current) or dry:
            return (current if not dry else obj), out.warnings, False
        check_stored_size(obj)
        stored = self.s.store.put(t.rt.store_key, obj)
        if finish_if_done(self.s.store, t.rt.store_key, stored):
            self.s.gc.kick()
        return stored, out.warnings, True

    async def update(self, request: web.Request, t: Target, user: User) -> web.StreamResponse:
        """PUT a full object (409 on a stale resourceVersion)."""
        if t.name is None:
            raise method_not_allowed()
        body = await self._body(request)
        if not isinstance(body, dict):
            raise bad_request("the request body must be a JSON object")
        current = self._get_or_404(t)
        rv = (body.get("metadata") or {}).get("resourceVersion")
        if rv and rv != current["metadata"]["resourceVersion"]:
            raise conflict(t.rt.plural, t.rt.group, t.name)
        new = self._merge_for_write(t, body, current)
        obj, warnings, _ = await self._write(request, t, new, current, user)
        return json_response(self.render(t.rt, t.version, obj), 200, warnings)

    async def patch(self, request: web.Request, t: Target, user: User) -> web.StreamResponse:
        """PATCH (JSON patch, merge patch, strategic merge); server-side apply answers 415."""
        if t.name is None:
            raise method_not_allowed()
        ctype = request.headers.get("Content-Type", "")
        if ctype.startswith(APPLY_PATCH):
            raise ApiError(
                415,
                "UnsupportedMediaType",
                "server-side apply is not supported by the kagent devstack API server; use client-side "
                f"kubectl apply (the default) or a patch of type {JSON_PATCH} or {MERGE_PATCH}",
            )
        body = await self._body(request)
        for _ in range(10):
            current = self._get_or_404(t)
            patched = apply_patch(
                ctype, self.render(t.rt, t.version, current), body, custom=t.rt.custom
            )
            rv = (patched.get("metadata") or {}).get("resourceVersion")
            if rv and rv != current["metadata"]["resourceVersion"]:
                raise conflict(t.rt.plural, t.rt.group, t.name)
            new = self._merge_for_write(t, patched, current)
            try:
                obj, warnings, _ = await self._write(request, t, new, current, user)
            except ApiError as exc:
                if exc.reason == "Conflict" and not rv:
                    continue
                raise
            return json_response(self.render(t.rt, t.version, obj), 200, warnings)
        raise conflict(t.rt.plural, t.rt.group, t.name)

    async def delete(self, request: web.Request, t: Target, user: User) -> web.StreamResponse:
        """DELETE one object (finalizers, propagation policy, preconditions)."""
        if t.name is None:
            return await self.delete_collection(request, t, user)
        if t.subresource:
            raise method_not_allowed()
        body = await self._body(request) or {}
        obj, status = await self._delete_one(request, t, self._get_or_404(t), body, user)
        return json_response(obj, status)

    async def _delete_one(
        self,
        request: web.Request,
        t: Target,
        current: dict[str, Any],
        body: dict[str, Any],
        user: User,
    ) -> tuple[dict[str, Any], int]:
        pre = body.get("preconditions") or {}
        meta = current["metadata"]
        if pre.get("uid") and pre["uid"] != meta.get("uid"):
            raise conflict(
                t.rt.plural,
                t.rt.group,
                meta["name"],
                f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: {meta.get('uid')}",
            )
        if pre.get("resourceVersion") and pre["resourceVersion"] != meta["resourceVersion"]:
            raise conflict(
                t.rt.plural,
                t.rt.group,
                meta["name"],
                f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, "
                f"ResourceVersion in object meta: {meta['resourceVersion']}",
            )
        policy = (
            body.get("propagationPolicy") or request.query.get("propagationPolicy") or "Background"
        )
        if body.get("orphanDependents") is True:
            policy = "Orphan"
        if policy not in ("Background", "Foreground", "Orphan"):
            raise bad_request(
                f"propagationPolicy: Unsupported value: {policy!r}: supported values: Background, Foreground, Orphan"
            )
        dry = self._dry(request) or "All" in (body.get("dryRun") or [])
        await self.s.admission.admit(
            t.rt,
            t.version,
            self._request(t, "DELETE", None, self.render(t.rt, t.version, current), user, dry),
        )
        if dry:
            return self.render(t.rt, t.version, current), 200
        obj, removed = begin_delete(self.s.store, t.rt.store_key, current, policy, self.s.gc.kick)
        if removed:
            return success_status(
                {
                    "name": meta["name"],
                    "group": t.rt.group,
                    "kind": t.rt.plural,
                    "uid": meta.get("uid"),
                }
            ), 200
        return self.render(t.rt, t.version, obj), 200

    async def delete_collection(
        self, request: web.Request, t: Target, user: User
    ) -> web.StreamResponse:
        """DELETE a collection (selectors apply)."""
        if "deletecollection" not in t.rt.verbs:
            raise method_not_allowed()
        body = await self._body(request) or {}
        matcher = self._matcher(t.rt, request)
        for obj in [o for o in self.s.store.list(t.rt.store_key, t.namespace) if matcher(o)]:
            await self._delete_one(request, t, obj, body, user)
        return json_response(success_status({"group": t.rt.group, "kind": t.rt.plural}))
