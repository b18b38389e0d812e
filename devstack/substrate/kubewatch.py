"""Kubernetes glue of the template controller: list+watch ActorTemplates and WorkerPools.

Thin by design: each watch lists (remembering ``resourceVersion``), then watches from it;
410 Gone relists, any other error waits with capped, jittered backoff and resumes. Template
objects feed ate-api's "informer cache" (`Control.put_template`) and a de-duplicating key
queue worked by `TemplateController`; WorkerPool ``spec.replicas`` is the pool's capacity.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubernetes_asyncio import client, config, watch
from kubernetes_asyncio.client.exceptions import ApiException

from devstack.substrate.boot import SecretReader
from devstack.substrate.state import TemplateInfo
from devstack.substrate.templates import ControlOps, TemplateController

if TYPE_CHECKING:
    from devstack.substrate.server import Simulator

log = logging.getLogger(__name__)
GROUP, VERSION = "ate.dev", "v1alpha1"
REQUEST_TIMEOUT = 30
WATCH_SECONDS = 60
MAX_BACKOFF = 30.0

Key = tuple[str, str]


def _key(obj: dict[str, Any]) -> Key:
    meta = obj.get("metadata") or {}
    return (str(meta.get("namespace", "")), str(meta.get("name", "")))


def template_info(obj: dict[str, Any]) -> TemplateInfo:
    """What ate-api's cache keeps of an ActorTemplate object."""
    spec = obj.get("spec") or {}
    pool = spec.get("workerPoolRef") or {}
    ns, name = _key(obj)
    return TemplateInfo(
        ns,
        name,
        str(pool.get("namespace") or ""),
        str(pool.get("name") or ""),
        str((spec.get("snapshotsConfig") or {}).get("location") or ""),
        str((obj.get("status") or {}).get("goldenSnapshot") or ""),
    )


def backoff(attempt: int, base: float = 0.5, cap: float = MAX_BACKOFF) -> float:
    """Capped exponential backoff with ±20 % jitter."""
    return min(cap, base * 2.0 ** min(attempt, 16)) * (0.8 + 0.4 * random.random())


WATCH_READ_BUFSIZE = 4 * 1024 * 1024


async def list_watch(
    api: client.CustomObjectsApi,
    plural: str,
    on_list: Callable[[list[dict[str, Any]]], Awaitable[None]],
    on_event: Callable[[str, dict[str, Any]], Awaitable[None]],
) -> None:
    """List, then watch from the list's resourceVersion; forever."""
    version: str | None = None
    failures = 0
    while True:
        try:
            if version is None:
                listed = await api.list_cluster_custom_object(
                    GROUP, VERSION, plural, _request_timeout=REQUEST_TIMEOUT
                )
                version = str(listed["metadata"]["resourceVersion"])
                await on_list(list(listed.get("items") or []))
            stream = watch.Watch()
            async with stream.stream(
                api.list_cluster_custom_object,
                GROUP,
                VERSION,
                plural,
                resource_version=version,
                allow_watch_bookmarks=True,
                timeout_seconds=WATCH_SECONDS,
                _request_timeout=WATCH_SECONDS + REQUEST_TIMEOUT,
            ) as events:
                async for event in events:
                    obj = event["raw_object"]
                    version = str((obj.get("metadata") or {}).get("resourceVersion") or version)
                    if event["type"] in ("ADDED", "MODIFIED", "DELETED"):
                        await on_event(event["type"], obj)
            failures = 0
        except asyncio.CancelledError:
            raise
        except ApiException as exc:
            if exc.status == 410:
                version = None  # resourceVersion too old: relist
                continue
            failures += 1
            log.warning("watch %s failed (HTTP %s); retrying", plural, exc.status)
            await asyncio.sleep(backoff(failures))
        except Exception as exc:  # network errors, timeouts, decode errors: resume after backoff
            failures += 1
            log.warning("watch %s failed (%s); retrying", plural, type(exc).__name__)
            await asyncio.sleep(backoff(failures))


class KubeStatusWriter:
    """`StatusWriter` on the status subresource (JSON merge patch)."""

    def __init__(self, api: client.CustomObjectsApi, cache: dict[Key, dict[str, Any]]) -> None:
        self.api = api
        self.cache = cache

    async def write_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        """Merge-patch ``status`` and keep the returned object as the freshest copy."""
        updated = await self.api.patch_namespaced_custom_object_status(
            GROUP,
            VERSION,
            namespace,
            "actortemplates",
            name,
            {"status": status},
            _content_type="application/merge-patch+json",
            _request_timeout=REQUEST_TIMEOUT,
        )
        if isinstance(updated, dict):
            self.cache[(namespace, name)] = updated


class TemplateLoop:
    """De-duplicating key queue + ``template_workers`` workers running `TemplateController`
    with backoff; a key is never reconciled by two workers at once (an event for a key in
    progress queues it again once that pass ends), as in controller-runtime."""

    def __init__(self, sim: Simulator, api: client.CustomObjectsApi) -> None:
        self.sim = sim
        self.api = api
        self.cache: dict[Key, dict[str, Any]] = {}
        self.queue: asyncio.Queue[Key] = asyncio.Queue()
        self.queued: set[Key] = set()
        self.busy: set[Key] = set()
        self.dirty: set[Key] = set()
        self.failures: dict[Key, int] = {}
        self.controller = TemplateController(
            ControlOps(sim.control),
            KubeStatusWriter(api, self.cache),
            warmup=sim.config.golden_warmup,
        )

    def enqueue(self, key: Key) -> None:
        """Queue ``key`` unless already queued (or after its pass in progress ends)."""
        if key in self.busy:
            self.dirty.add(key)
        elif key not in self.queued:
            self.queued.add(key)
            self.queue.put_nowait(key)

    def _later(self, key: Key, delay: float) -> None:
        asyncio.get_running_loop().call_later(max(delay, 0.0), self.enqueue, key)

    async def on_list(self, items: list[dict[str, Any]]) -> None:
        """Replace the cache with a fresh list."""
        fresh = {_key(o): o for o in items}
        for key in set(self.cache) - set(fresh):
            await self.on_event("DELETED", self.cache[key])
        for obj in items:
            await self.on_event("ADDED", obj)

    async def on_event(self, kind: str, obj: dict[str, Any]) -> None:
        """Update the cache, ate-api's template cache and the queue."""
        key = _key(obj)
        if kind == "DELETED":
            self.cache.pop(key, None)
            self.sim.control.drop_template(*key)
            self.sim.boots.put_template(*key, {})
            self.sim.template_phases.pop(f"{key[0]}/{key[1]}", None)
            return
        self.cache[key] = obj
        self.sim.boots.put_template(*key, obj.get("spec") or {})
        self.sim.control.put_template(template_info(obj))
        self.enqueue(key)

    async def work(self) -> None:
        """Reconcile queued keys forever, ``template_workers`` at a time."""
        async with asyncio.TaskGroup() as group:
            for _ in range(max(1, self.sim.config.template_workers)):
                group.create_task(self._worker())

    async def _worker(self) -> None:
        while True:
            key = await self.queue.get()
            self.queued.discard(key)
            obj = self.cache.get(key)
            if obj is None:
                continue
            self.busy.add(key)
            try:
                await self._reconcile(key, obj)
            finally:
                self.busy.discard(key)
                if key in self.dirty:
                    self.dirty.discard(key)
                    self.enqueue(key)

    async def _reconcile(self, key: Key, obj: dict[str, Any]) -> None:
        try:
            again = await self.controller.reconcile(obj)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.failures[key] = self.failures.get(key, 0) + 1
            log.warning("ActorTemplate %s/%s: %s", *key, exc)
            self._later(key, backoff(self.failures[key]))
            return
        self.failures.pop(key, None)
        latest = self.cache.get(key, obj)
        self.sim.control.put_template(template_info(latest))
        phase = (latest.get("status") or {}).get("phase") or ""
        self.sim.template_phases[f"{key[0]}/{key[1]}"] = phase
        if again is not None:
            self._later(key, again)


async def _pool_event(
    sim: Simulator, api: client.CustomObjectsApi, kind: str, obj: dict[str, Any]
) -> None:
    ns, name = _key(obj)
    replicas = 0 if kind == "DELETED" else int((obj.get("spec") or {}).get("replicas") or 0)
    sim.control.set_pool_capacity(ns, name, replicas)
    if kind != "DELETED" and (obj.get("status") or {}).get("replicas") != replicas:
        with contextlib.suppress(ApiException, OSError, TimeoutError):
            await api.patch_namespaced_custom_object_status(
                GROUP,
                VERSION,
                ns,
                "workerpools",
                name,
                {"status": {"replicas": replicas}},
                _content_type="application/merge-patch+json",
                _request_timeout=REQUEST_TIMEOUT,
            )


def secret_reader(core: client.CoreV1Api) -> SecretReader:
    """Secret ``data`` by (namespace, name), as ate-api reads env sources; None when absent."""

    async def read(namespace: str, name: str) -> dict[str, str] | None:
        try:
            secret = await core.read_namespaced_secret(
                name, namespace, _request_timeout=REQUEST_TIMEOUT
            )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return dict(secret.data or {})

    return read


async def run_template_controller(sim: Simulator, kubeconfig: Path) -> None:
    """Watch WorkerPools and ActorTemplates via ``kubeconfig`` until cancelled."""
    api_client = await config.new_client_from_config(config_file=str(kubeconfig))
    # kubernetes_asyncio's watch reads lines with aiohttp's readline, which stops at twice the
    # read buffer (128 KiB by default): one ActorTemplate above that broke every later event.
    # 4 MiB lets a line of any object an apiserver stores through (issue 15 item 4).
    api_client.rest_client.pool_manager._read_bufsize = WATCH_READ_BUFSIZE
    try:
        api = client.CustomObjectsApi(api_client)
        sim.boots.read_secret = secret_reader(client.CoreV1Api(api_client))
        loop = TemplateLoop(sim, api)

        async def pools_listed(items: list[dict[str, Any]]) -> None:
            live = {_key(o) for o in items}
            for key in [k for k in sim.control.pools if k not in live]:
                sim.control.set_pool_capacity(*key, 0)
            for obj in items:
                await _pool_event(sim, api, "ADDED", obj)

        async def pool_event(kind: str, obj: dict[str, Any]) -> None:
            await _pool_event(sim, api, kind, obj)

        async with asyncio.TaskGroup() as group:
            group.create_task(list_watch(api, "workerpools", pools_listed, pool_event))
            group.create_task(list_watch(api, "actortemplates", loop.on_list, loop.on_event))
            group.create_task(loop.work())
    finally:
        await api_client.close()
