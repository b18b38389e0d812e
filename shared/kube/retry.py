"""Optimistic-concurrency helpers: re-read and retry on `Conflict` (client-go RetryOnConflict).

Status writes are merge patches carrying the ``resourceVersion`` that was read, so a write
computed from a stale object is refused (409) and recomputed from the live one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from shared.kube.backoff import Backoff
from shared.kube.client import KubeClient, Obj
from shared.kube.errors import Conflict
from shared.kube.resources import Resource

T = TypeVar("T")
CONFLICT_BACKOFF = Backoff(initial=0.01, cap=1.0, factor=2.0, jitter=0.5)


async def retry_on_conflict(
    fn: Callable[[], Awaitable[T]],
    *,
    attempts: int = 5,
    backoff: Backoff = CONFLICT_BACKOFF,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Call ``fn`` until it does not raise `Conflict` (the last `Conflict` propagates)."""
    for attempt in range(attempts):
        try:
            return await fn()
        except Conflict:
            if attempt == attempts - 1:
                raise
            await sleep(backoff.delay(attempt))
    raise AssertionError("unreachable")


async def patch_status(
    client: KubeClient,
    res: Resource,
    name: str,
    namespace: str | None,
    compute: Callable[[Obj], Mapping[str, Any] | None],
    *,
    attempts: int = 5,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Obj | None:
    """Read the object, ``compute(obj)`` a status merge patch, write it guarded by the read rv.

    ``compute`` returns None when nothing needs writing (no request is sent). On `Conflict` the
    object is read again and ``compute`` runs on the fresh copy. Returns the written object.
    """

    async def once() -> Obj | None:
        live = await client.get(res, name, namespace)
        status = compute(live)
        if status is None:
            return None
        rv = live["metadata"]["resourceVersion"]
        body = {"metadata": {"resourceVersion": rv}, "status": dict(status)}
        return await client.patch_status(res, name, body, namespace)

    return await retry_on_conflict(once, attempts=attempts, sleep=sleep)
