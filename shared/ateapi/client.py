"""`AteApiClient`: one TLS channel to ate-api, per-call deadlines, token re-read, retries.

Every public method returns our dataclasses or raises an `AteApiError` subclass; grpc and
protobuf types stay inside this package. Idempotent calls (Get, List*, Resume, Suspend)
retry UNAVAILABLE / DEADLINE_EXCEEDED with capped exponential backoff and jitter; every
attempt has its own deadline of ``call_timeout`` seconds (or the ``timeout`` argument).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from prometheus_client import CollectorRegistry

from shared.ateapi.config import AteApiConfig
from shared.ateapi.convert import Actor, ActorPage, Worker, actor_from_pb, worker_from_pb
from shared.ateapi.errors import (
    AteApiError,
    ConfigError,
    NoFreeWorkers,
    TlsError,
    Unavailable,
    UnknownError,
    classify,
    is_tls_failure,
)
from shared.ateapi.metrics import CallObserver, PrometheusObserver
from shared.ateapi.tls import build_credentials
from shared.ateapi.token import read_token
from shared.ateapi.wire import METHODS, pb
from shared.secrets import Secret, redact

Sleep = Callable[[float], Awaitable[None]]


class AteApiClient:
    """Async client of the ate-api ``Control`` service (wire version v1)."""

    def __init__(
        self,
        config: AteApiConfig,
        *,
        observer: CallObserver | None = None,
        registry: CollectorRegistry | None = None,
        sleep: Sleep = asyncio.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        config.validate()
        if observer is not None and registry is not None:
            raise ConfigError("pass either observer or registry, not both")
        self._config = config
        self._observer = observer or (PrometheusObserver(registry) if registry else None)
        self._sleep = sleep
        self._rand = rand
        self._channel: grpc.aio.Channel | None = None
        self._callables: dict[str, Any] = {}
        self._lock = asyncio.Lock()
        self._closed = False

    @classmethod
    async def connect(
        cls,
        config: AteApiConfig,
        *,
        observer: CallObserver | None = None,
        registry: CollectorRegistry | None = None,
    ) -> AteApiClient:
        """Create a client and wait until its connection is READY (within ``dial_timeout``)."""
        client = cls(config, observer=observer, registry=registry)
        try:
            await client.wait_ready()
        except BaseException:
            await client.close()
            raise
        return client

    @property
    def config(self) -> AteApiConfig:
        """The configuration this client was built with."""
        return self._config

    async def __aenter__(self) -> AteApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the channel; later calls raise `Unavailable`."""
        self._closed = True
        channel, self._channel = self._channel, None
        if channel is not None:
            await channel.close()

    async def _ensure_channel(self) -> grpc.aio.Channel:
        if self._closed:
            raise Unavailable("", "UNAVAILABLE", "client is closed")
        if self._channel is not None:
            return self._channel
        async with self._lock:
            if self._channel is None:
                creds = await build_credentials(self._config)
                options = [
                    *creds.options,
                    ("grpc.keepalive_time_ms", int(self._config.keepalive_time * 1000)),
                    ("grpc.keepalive_timeout_ms", int(self._config.keepalive_timeout * 1000)),
                    ("grpc.keepalive_permit_without_calls", 0),
                    ("grpc.enable_retries", 0),
                ]
                channel = grpc.aio.secure_channel(
                    self._config.endpoint, creds.credentials, options=options
                )
                self._callables = {
                    name: channel.unary_unary(
                        m.path,
                        request_serializer=m.request.SerializeToString,
                        response_deserializer=m.response.FromString,
                    )
                    for name, m in METHODS.items()
                }
                self._channel = channel
            return self._channel

    async def wait_ready(self, timeout: float | None = None) -> None:
        """Connect and wait for READY; a failed TLS handshake fails at once with `TlsError`."""
        limit = self._config.dial_timeout if timeout is None else timeout
        endpoint = self._config.endpoint
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        channel = await self._ensure_channel()
        last = ""
        state = channel.get_state(try_to_connect=True)
        while state != grpc.ChannelConnectivity.READY:
            remaining = deadline - loop.time()
            if state == grpc.ChannelConnectivity.TRANSIENT_FAILURE:
                last = await self._probe(min(remaining, 2.0))
                if is_tls_failure(last):
                    raise TlsError(
                        "",
                        "UNAVAILABLE",
                        f'dial ate-api "{endpoint}": {last}',
                        hint="set the CA file (ca_file / --ate-api-ca-file) to the CA that "
                        "signed ate-api's certificate",
                    )
                remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                async with asyncio.timeout(remaining):
                    await channel.wait_for_state_change(state)
            except TimeoutError:
                break
            state = channel.get_state(try_to_connect=True)
        else:
            return
        detail = f"; last error: {last}" if last else ""
        raise Unavailable(
            "",
            "UNAVAILABLE",
            f'dial ate-api "{endpoint}": not ready within {limit:g}s (state {state.name}){detail}',
        )

    async def _probe(self, timeout: float) -> str:
        """Why the channel is failing: one fail-fast call whose transport error carries the reason."""
        try:
            await self._callables["GetActor"](
                pb.GetActorRequest(), timeout=max(timeout, 0.05), wait_for_ready=False
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.UNAVAILABLE:
                return exc.details() or ""
        return ""

    def _metadata(self) -> tuple[tuple[str, str], ...] | None:
        if self._config.token_file is None:
            return None
        token = read_token(self._config.token_file)
        return (("authorization", f"Bearer {token.reveal()}"),)

    def _token_for_redaction(self) -> Secret | None:
        if self._config.token_file is None:
            return None
        try:
            return read_token(self._config.token_file)
        except AteApiError:
            return None

    async def _call(self, name: str, request: Any, timeout: float | None) -> Any:
        method = METHODS[name]
        attempts = self._config.retry.max_attempts if method.idempotent else 1
        per_attempt = self._config.call_timeout if timeout is None else timeout
        await self._ensure_channel()
        call = self._callables[name]
        for attempt in range(1, attempts + 1):
            metadata = self._metadata()
            started = time.perf_counter()
            try:
                response = await call(
                    request, timeout=per_attempt, metadata=metadata, wait_for_ready=False
                )
            except grpc.aio.AioRpcError as exc:
                code = exc.code().name
                self._observe(name, code, started)
                details = redact(exc.details() or "", self._token_for_redaction())
                err = classify(name, code, details)
                if isinstance(err, NoFreeWorkers) and self._observer is not None:
                    self._observer.no_free_workers(name)
                if err.retryable and attempt < attempts:
                    await self._sleep(self._config.retry.backoff(attempt, self._rand()))
                    continue
                raise err from exc
            except grpc.RpcError as exc:
                self._observe(name, "UNKNOWN", started)
                raise UnknownError(name, "UNKNOWN", type(exc).__name__) from exc
            except grpc.aio.UsageError as exc:
                raise Unavailable(name, "UNAVAILABLE", f"channel unusable: {exc}") from exc
            self._observe(name, "OK", started)
            return response
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _observe(self, method: str, code: str, started: float) -> None:
        if self._observer is not None:
            self._observer.observe(method, code, time.perf_counter() - started)

    async def get_actor(self, actor_id: str, *, timeout: float | None = None) -> Actor:
        """GetActor: the current record; `NotFound` if absent."""
        resp = await self._call("GetActor", pb.GetActorRequest(actor_id=actor_id), timeout)
        return actor_from_pb(resp.actor)

    async def create_actor(
        self,
        actor_id: str,
        template_namespace: str,
        template_name: str,
        *,
        timeout: float | None = None,
    ) -> Actor:
        """CreateActor: a new SUSPENDED actor; `AlreadyExists` / `TemplateNotFound` otherwise."""
        request = pb.CreateActorRequest(
            actor_id=actor_id,
            actor_template_namespace=template_namespace,
            actor_template_name=template_name,
        )
        resp = await self._call("CreateActor", request, timeout)
        return actor_from_pb(resp.actor)

    async def resume_actor(
        self, actor_id: str, *, boot: bool = False, timeout: float | None = None
    ) -> Actor:
        """ResumeActor: bind a worker and run; `NoFreeWorkers` when the pool is full."""
        request = pb.ResumeActorRequest(actor_id=actor_id, boot=boot)
        resp = await self._call("ResumeActor", request, timeout)
        return actor_from_pb(resp.actor)

    async def suspend_actor(self, actor_id: str, *, timeout: float | None = None) -> Actor:
        """SuspendActor: checkpoint and free the worker; returns the final record."""
        resp = await self._call("SuspendActor", pb.SuspendActorRequest(actor_id=actor_id), timeout)
        return actor_from_pb(resp.actor)

    async def delete_actor(self, actor_id: str, *, timeout: float | None = None) -> None:
        """DeleteActor: only SUSPENDED actors (`NotSuspended` otherwise); not retried."""
        await self._call("DeleteActor", pb.DeleteActorRequest(actor_id=actor_id), timeout)

    async def list_actors(
        self, page_size: int = 0, page_token: str = "", *, timeout: float | None = None
    ) -> ActorPage:
        """ListActors: one page (``page_size`` 0 = server default 1000, max 1000)."""
        request = pb.ListActorsRequest(page_size=page_size, page_token=page_token)
        resp = await self._call("ListActors", request, timeout)
        return ActorPage(tuple(actor_from_pb(a) for a in resp.actors), resp.next_page_token)

    async def iter_actors(
        self, page_size: int = 0, *, timeout: float | None = None
    ) -> AsyncIterator[Actor]:
        """Every actor, following page tokens until the server returns an empty one."""
        token = ""
        seen_tokens: set[str] = set()
        while True:
            page = await self.list_actors(page_size, token, timeout=timeout)
            for actor in page.actors:
                yield actor
            token = page.next_page_token
            if not token:
                return
            if token in seen_tokens:
                raise UnknownError("ListActors", "UNKNOWN", "server repeated a page token")
            seen_tokens.add(token)

    async def list_all_actors(
        self, page_size: int = 0, *, timeout: float | None = None
    ) -> list[Actor]:
        """All actors across pages (one entry per id; later pages win on duplicates)."""
        by_id: dict[str, Actor] = {}
        async for actor in self.iter_actors(page_size, timeout=timeout):
            by_id[actor.actor_id] = actor
        return list(by_id.values())

    async def list_workers(self, *, timeout: float | None = None) -> list[Worker]:
        """ListWorkers: every registered worker, free or bound."""
        resp = await self._call("ListWorkers", pb.ListWorkersRequest(), timeout)
        return [worker_from_pb(w) for w in resp.workers]

    async def debug_clear(self, *, timeout: float | None = None) -> None:
        """DebugClear: wipe every actor and worker (test servers only; never retried)."""
        await self._call("DebugClear", pb.DebugClearRequest(), timeout)
