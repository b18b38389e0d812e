"""Reachability through the atenet-router: ``GET /health`` with the actor's Host header.

Ready means RUNNING *and* reachable (SPEC §6): an actor ate-api reports RUNNING may not serve yet.
One shared aiohttp session (connection pooling), a short deadline, no proxy env for in-cluster
traffic.
"""

from __future__ import annotations

import logging

import aiohttp

from shared.naming import DEFAULT_ROUTER_URL, gateway_router_target

log = logging.getLogger(__name__)


class RouterProbe:
    """Callable ``await probe(actor_id) -> bool``; close() on shutdown."""

    def __init__(self, router_url: str = "", *, timeout: float = 3.0) -> None:
        self._url = (router_url.strip() or DEFAULT_ROUTER_URL).rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def __call__(self, actor_id: str) -> bool:
        base, host = gateway_router_target(self._url, actor_id)
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout, trust_env=False)
        try:
            async with self._session.get(f"{base}/health", headers={"Host": host}) as resp:
                await resp.read()
                return resp.status < 500
        except (TimeoutError, aiohttp.ClientError) as exc:
            log.debug("router probe failed: %s", type(exc).__name__, extra={"actor_id": actor_id})
            return False

    async def close(self) -> None:
        """Close the pooled connections."""
        if self._session is not None:
            await self._session.close()
