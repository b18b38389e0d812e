"""A small async dynamic client over `kubernetes_asyncio`: dict objects, deadlines, typed errors.

One `KubeClient` (one ApiClient, one connection pool) per process, built by `connect()` at the
composition root and closed on shutdown. Every call has a deadline (``request_timeout`` of the
config, or ``timeout=`` per call); watches have a connect deadline and a read deadline longer
than the server-side ``timeoutSeconds``. Objects are plain dicts (the CRD is the schema); errors
are `shared.kube.errors`; an injected `RequestObserver` sees every request (verb, resource,
HTTP status, seconds) so callers and benchmarks can count API traffic.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal, Protocol

import yaml

from shared.errors import InputError
from shared.kube import errors
from shared.kube.resources import Resource

Obj = dict[str, Any]
PatchType = Literal["merge", "json", "strategic"]
PropagationPolicy = Literal["Foreground", "Background", "Orphan"]

_PATCH_CONTENT: dict[str, str] = {
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
}


MAX_EVENT_BYTES: Final = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class KubeClientConfig:
    """How to reach the API server."""

    kubeconfig: str | None = None
    """Path of a kubeconfig file; None: the in-cluster service account."""
    context: str | None = None
    """kubeconfig context to use; None: the current context."""
    request_timeout: float = 10.0
    """Seconds: deadline of every non-watch call (connect + send + read the whole answer)."""
    connect_timeout: float = 5.0
    """Seconds: deadline to open a connection for a watch."""
    watch_timeout: float = 300.0
    """Seconds: server-side ``timeoutSeconds`` of one watch request (it is then reopened)."""
    max_event_bytes: int = MAX_EVENT_BYTES
    """Largest watch event line accepted: above the apiserver's 3 MiB request limit (so any
    object it can store fits); a bigger line fails the watch instead of hanging it."""
    watch_read_grace: float = 30.0
    """Seconds of silence beyond ``watch_timeout`` after which a watch read fails."""


class RequestObserver(Protocol):
    """Sees every API request once it finished (``status`` None: no HTTP answer)."""

    def __call__(
        self, verb: str, resource: Resource, status: int | None, seconds: float
    ) -> None: ...


@dataclass(slots=True)
class RequestCounter:
    """A `RequestObserver` counting requests by verb and by (verb, resource)."""

    by_verb: Counter[str] = field(default_factory=Counter)
    by_resource: Counter[tuple[str, str]] = field(default_factory=Counter)

    def __call__(self, verb: str, resource: Resource, status: int | None, seconds: float) -> None:
        self.by_verb[verb] += 1
        self.by_resource[(verb, str(resource))] += 1

    @property
    def writes(self) -> int:
        """create + update + patch + delete requests."""
        return sum(self.by_verb[v] for v in ("create", "update", "patch", "delete"))


@dataclass(frozen=True, slots=True)
class ObjectList:
    """One list answer: the items, the list's resourceVersion, the continue token (if any)."""

    items: list[Obj]
    resource_version: str
    continue_token: str | None = None


def _selectors(label_selector: str | None, field_selector: str | None) -> list[tuple[str, str]]:
    query: list[tuple[str, str]] = []
    if label_selector:
        query.append(("labelSelector", label_selector))
    if field_selector:
        query.append(("fieldSelector", field_selector))
    return query


class KubeClient:
    """Dynamic CRUD, status subresource, list paging and raw watch over one ApiClient."""

    def __init__(
        self,
        api_client: Any,
        config: KubeClientConfig | None = None,
        *,
        observer: RequestObserver | None = None,
    ) -> None:
        self._api = api_client
        self.config = config or KubeClientConfig()
        self._observer = observer

    async def close(self) -> None:
        """Close the connection pool."""
        await self._api.close()

    async def __aenter__(self) -> KubeClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _observe(self, verb: str, res: Resource, status: int | None, start: float) -> None:
        if self._observer is not None:
            self._observer(verb, res, status, time.monotonic() - start)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: Any = None,
        content_type: str = "application/json",
        timeout: Any,
    ) -> Any:
        return await self._api.call_api(
            path,
            method,
            query_params=list(query),
            header_params={"Accept": "application/json", "Content-Type": content_type},
            body=body,
            auth_settings=["BearerToken"],
            _preload_content=False,
            _request_timeout=timeout,
        )

    async def _call(
        self,
        verb: str,
        method: str,
        res: Resource,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: Any = None,
        content_type: str = "application/json",
        timeout: float | None = None,
    ) -> Obj:
        deadline = timeout if timeout is not None else self.config.request_timeout
        start = time.monotonic()
        status: int | None = None
        what = f"{verb} {res}"
        try:
            async with asyncio.timeout(deadline):
                resp = await self._send(
                    method,
                    path,
                    query=query,
                    body=body,
                    content_type=content_type,
                    timeout=deadline,
                )
                status = int(resp.status)
                data: bytes = await resp.read()
        except errors.KubeError:
            raise
        except (TimeoutError, Exception) as exc:
            raise errors.from_exception(exc, what=what) from exc
        finally:
            self._observe(verb, res, status, start)
        if not 200 <= status <= 299:
            raise errors.from_status(status, data, dict(resp.headers))
        try:
            doc = json.loads(data) if data else {}
        except ValueError as exc:
            raise errors.KubeError(
                f"{what}: answer is not JSON: {data[: errors.BODY_LIMIT]!r}", status=status
            ) from exc
        return doc if isinstance(doc, dict) else {"value": doc}

    @staticmethod
    def _ns(res: Resource, namespace: str | None) -> str | None:
        if res.namespaced and namespace is None:
            raise ValueError(f"{res} is namespaced: pass namespace=")
        return namespace if res.namespaced else None

    async def get(
        self,
        res: Resource,
        name: str,
        namespace: str | None = None,
        *,
        timeout: float | None = None,
    ) -> Obj:
        """GET one object (`NotFound` if absent)."""
        path = res.path(self._ns(res, namespace), name)
        return await self._call("get", "GET", res, path, timeout=timeout)

    async def list(
        self,
        res: Resource,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
        resource_version: str | None = None,
        timeout: float | None = None,
    ) -> ObjectList:
        """One page of a list (``namespace`` None on a namespaced resource: all namespaces)."""
        query = _selectors(label_selector, field_selector)
        if limit:
            query.append(("limit", str(limit)))
        if continue_token:
            query.append(("continue", continue_token))
        if resource_version is not None:
            query.append(("resourceVersion", resource_version))
        path = res.path(namespace if res.namespaced else None)
        doc = await self._call("list", "GET", res, path, query=query, timeout=timeout)
        meta = doc.get("metadata") or {}
        kind = str(doc.get("kind") or "")
        items: list[Obj] = list(doc.get("items") or [])
        if kind.endswith("List"):
            for item in items:
                item.setdefault("kind", kind[: -len("List")])
                item.setdefault("apiVersion", doc.get("apiVersion") or res.api_version)
        return ObjectList(
            items, str(meta.get("resourceVersion") or ""), meta.get("continue") or None
        )

    async def list_all(
        self,
        res: Resource,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        page_size: int = 500,
        timeout: float | None = None,
    ) -> ObjectList:
        """Every page of a list; the resourceVersion is the first page's (a consistent snapshot)."""
        items: list[Obj] = []
        token: str | None = None
        rv = ""
        while True:
            page = await self.list(
                res,
                namespace,
                label_selector=label_selector,
                field_selector=field_selector,
                limit=page_size,
                continue_token=token,
                timeout=timeout,
            )
            items.extend(page.items)
            rv = rv or page.resource_version
            token = page.continue_token
            if not token:
                return ObjectList(items, rv)

    async def create(
        self,
        res: Resource,
        body: Mapping[str, Any],
        namespace: str | None = None,
        *,
        timeout: float | None = None,
    ) -> Obj:
        """POST a new object (`AlreadyExists` if the name is taken)."""
        ns = namespace if namespace is not None else (body.get("metadata") or {}).get("namespace")
        path = res.path(self._ns(res, ns))
        return await self._call("create", "POST", res, path, body=dict(body), timeout=timeout)

    def _named_path(
        self, res: Resource, body: Mapping[str, Any], namespace: str | None, sub: str
    ) -> str:
        meta = body.get("metadata") or {}
        ns = namespace if namespace is not None else meta.get("namespace")
        return res.path(self._ns(res, ns), str(meta.get("name") or ""), sub)

    async def replace(
        self,
        res: Resource,
        body: Mapping[str, Any],
        namespace: str | None = None,
        *,
        timeout: float | None = None,
    ) -> Obj:
        """PUT the whole object; `Conflict` if its ``metadata.resourceVersion`` is stale."""
        path = self._named_path(res, body, namespace, "")
        return await self._call("update", "PUT", res, path, body=dict(body), timeout=timeout)

    update = replace

    async def replace_status(
        self,
        res: Resource,
        body: Mapping[str, Any],
        namespace: str | None = None,
        *,
        timeout: float | None = None,
    ) -> Obj:
        """PUT the status subresource (only ``status`` changes)."""
        path = self._named_path(res, body, namespace, "status")
        return await self._call("update", "PUT", res, path, body=dict(body), timeout=timeout)

    update_status = replace_status

    async def patch(
        self,
        res: Resource,
        name: str,
        patch: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        namespace: str | None = None,
        *,
        patch_type: PatchType = "merge",
        subresource: str = "",
        timeout: float | None = None,
    ) -> Obj:
        """PATCH (merge patch dict, or JSON patch list with ``patch_type="json"``)."""
        path = res.path(self._ns(res, namespace), name, subresource)
        body: Any = [dict(op) for op in patch] if patch_type == "json" else dict(patch)  # type: ignore[arg-type]
        return await self._call(
            "patch",
            "PATCH",
            res,
            path,
            body=body,
            content_type=_PATCH_CONTENT[patch_type],
            timeout=timeout,
        )

    async def patch_status(
        self,
        res: Resource,
        name: str,
        patch: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        namespace: str | None = None,
        *,
        patch_type: PatchType = "merge",
        timeout: float | None = None,
    ) -> Obj:
        """PATCH the status subresource."""
        return await self.patch(
            res,
            name,
            patch,
            namespace,
            patch_type=patch_type,
            subresource="status",
            timeout=timeout,
        )

    async def delete(
        self,
        res: Resource,
        name: str,
        namespace: str | None = None,
        *,
        propagation_policy: PropagationPolicy | None = None,
        uid: str | None = None,
        resource_version: str | None = None,
        grace_period_seconds: int | None = None,
        timeout: float | None = None,
    ) -> Obj:
        """DELETE with DeleteOptions; ``uid``/``resource_version`` become preconditions."""
        opts: Obj = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if propagation_policy:
            opts["propagationPolicy"] = propagation_policy
        if grace_period_seconds is not None:
            opts["gracePeriodSeconds"] = grace_period_seconds
        pre = {k: v for k, v in (("uid", uid), ("resourceVersion", resource_version)) if v}
        if pre:
            opts["preconditions"] = pre
        path = res.path(self._ns(res, namespace), name)
        return await self._call("delete", "DELETE", res, path, body=opts, timeout=timeout)

    async def _lines(self, resp: Any, read_deadline: float, what: str) -> AsyncGenerator[bytes]:
        """The lines of a watch stream, each up to ``max_event_bytes`` long.

        aiohttp's ``readline`` stops at 128 KiB (``LineTooLong``), far below the largest object
        an apiserver stores, so one big object would break every later event (issue 15 item 4).
        """
        limit = self.config.max_event_bytes
        buffer = bytearray()
        start = 0
        while True:
            newline = buffer.find(b"\n", start)
            if newline >= 0:
                line = bytes(buffer[:newline])
                del buffer[: newline + 1]
                start = 0
                yield line
                continue
            if len(buffer) > limit:
                raise errors.KubeError(
                    f"{what}: an event is larger than {limit} bytes (max_event_bytes)"
                )
            start = len(buffer)
            try:
                async with asyncio.timeout(read_deadline):
                    chunk: bytes = await resp.content.readany()
            except (TimeoutError, Exception) as exc:
                raise errors.from_exception(exc, what=what) from exc
            if not chunk:
                if buffer:
                    yield bytes(buffer)
                return
            buffer += chunk

    async def watch(
        self,
        res: Resource,
        namespace: str | None = None,
        *,
        resource_version: str = "",
        label_selector: str | None = None,
        field_selector: str | None = None,
        allow_bookmarks: bool = True,
        timeout_seconds: float | None = None,
    ) -> AsyncGenerator[Obj, None]:
        """Raw watch stream: yields ``{"type", "object"}`` dicts until the server ends it.

        An ``ERROR`` event raises its Status as a `KubeError` (`Gone` for 410).
        """
        server_timeout = (
            timeout_seconds if timeout_seconds is not None else self.config.watch_timeout
        )
        query = [("watch", "true"), *_selectors(label_selector, field_selector)]
        query.append(("timeoutSeconds", str(max(1, int(server_timeout)))))
        if resource_version:
            query.append(("resourceVersion", resource_version))
        if allow_bookmarks:
            query.append(("allowWatchBookmarks", "true"))
        path = res.path(namespace if res.namespaced else None)
        read_deadline = server_timeout + self.config.watch_read_grace
        start = time.monotonic()
        status: int | None = None
        what = f"watch {res}"
        try:
            async with asyncio.timeout(self.config.connect_timeout + self.config.request_timeout):
                resp = await self._send(
                    "GET", path, query=query, timeout=(self.config.connect_timeout, read_deadline)
                )
            status = int(resp.status)
        except (TimeoutError, Exception) as exc:
            raise errors.from_exception(exc, what=what) from exc
        finally:
            self._observe("watch", res, status, start)
        try:
            if not 200 <= status <= 299:
                async with asyncio.timeout(self.config.request_timeout):
                    data = await resp.read()
                raise errors.from_status(status, data, dict(resp.headers))
            async for line in self._lines(resp, read_deadline, what):
                if not line.strip():
                    continue
                try:
                    event = json.loads(line)
                except ValueError as exc:
                    raise errors.KubeError(
                        f"{what}: bad event line {line[: errors.BODY_LIMIT]!r}"
                    ) from exc
                if event.get("type") == "ERROR":
                    obj = event.get("object") or {}
                    raise errors.from_status(int(obj.get("code") or 500), json.dumps(obj))
                yield event
        finally:
            resp.close()


class KubeConfigError(InputError):
    """The kubeconfig (or in-cluster config) is missing or unusable; the message says which."""


async def connect(
    config: KubeClientConfig, *, observer: RequestObserver | None = None
) -> KubeClient:
    """Load the kubeconfig (or the in-cluster config) and build the process's one client."""
    from kubernetes_asyncio import client as k8s
    from kubernetes_asyncio import config as k8s_config

    cfg = k8s.Configuration()
    if config.kubeconfig:
        path = Path(config.kubeconfig)
        if not path.is_file():
            raise KubeConfigError(
                f"--kubeconfig {config.kubeconfig}: no such file; give the path of a kubeconfig "
                "(or leave it unset inside a cluster)"
            )
        try:
            await k8s_config.load_kube_config(
                config_file=config.kubeconfig, context=config.context, client_configuration=cfg
            )
        except (
            k8s_config.ConfigException,
            yaml.YAMLError,
            OSError,
            ValueError,
            TypeError,
            KeyError,
            AttributeError,
        ) as exc:
            reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            raise KubeConfigError(
                f"--kubeconfig {config.kubeconfig}: not a usable kubeconfig ({reason}); check "
                "that it is YAML with clusters, users, contexts and current-context"
            ) from None
    else:
        try:
            k8s_config.load_incluster_config(client_configuration=cfg)
        except k8s_config.ConfigException as exc:
            raise KubeConfigError(
                f"not running in a cluster ({str(exc)[:200]}); give --kubeconfig"
            ) from None
    return KubeClient(k8s.ApiClient(cfg), config, observer=observer)
