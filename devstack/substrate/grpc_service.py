"""The ``ateapi.Control`` gRPC handlers: token check, transport faults, then `Control`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from devstack.substrate.errors import SimError
from devstack.substrate.machine import Control
from devstack.substrate.state import ActorRecord, WorkerRecord
from shared.ateapi.convert import actor_to_pb, worker_to_pb
from shared.ateapi.wire import METHODS, SERVICE, pb

TokenSource = Callable[[], str | None]


class ControlService:
    """Adapts `Control` to grpc.aio handlers; ``expected_token`` enables bearer enforcement."""

    def __init__(
        self,
        control: Control,
        *,
        expected_token: TokenSource | None = None,
        on_drop: Callable[[], int] | None = None,
    ) -> None:
        self.control = control
        self.expected_token = expected_token
        self.on_drop = on_drop
        self.calls: dict[str, int] = dict.fromkeys(METHODS, 0)

    def handler(self) -> grpc.GenericRpcHandler:
        """One generic handler serving every Control method."""
        impls: dict[str, Callable[[Any], Awaitable[Any]]] = {
            "GetActor": self._get,
            "CreateActor": self._create,
            "SuspendActor": self._suspend,
            "ResumeActor": self._resume,
            "DeleteActor": self._delete,
            "ListWorkers": self._list_workers,
            "ListActors": self._list_actors,
            "DebugClear": self._debug_clear,
        }
        handlers = {
            name: grpc.unary_unary_rpc_method_handler(
                self._wrap(name, impls[name]),
                request_deserializer=m.request.FromString,
                response_serializer=m.response.SerializeToString,
            )
            for name, m in METHODS.items()
        }
        return grpc.method_handlers_generic_handler(SERVICE, handlers)

    def _wrap(
        self, name: str, impl: Callable[[Any], Awaitable[Any]]
    ) -> Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]:
        async def handle(request: Any, context: grpc.aio.ServicerContext) -> Any:
            self.calls[name] += 1
            try:
                self._check_token(context)
                action = self.control.faults.take(name)
                if action.latency:
                    await asyncio.sleep(action.latency)
                if action.drop and self.on_drop is not None:
                    self.on_drop()
                    await asyncio.sleep(3600)  # the connection is gone; grpc cancels us
                if action.unavailable:
                    raise SimError("UNAVAILABLE", "injected fault: unavailable")
                return await impl(request)
            except SimError as err:
                await context.abort(grpc.StatusCode[err.code], err.message)

        return handle

    def _check_token(self, context: grpc.aio.ServicerContext) -> None:
        if self.expected_token is None:
            return
        expected = self.expected_token()
        if not expected:
            return
        values = [v for k, v in context.invocation_metadata() or () if k == "authorization"]
        if not values:
            raise SimError("UNAUTHENTICATED", "missing bearer token")
        if len(values) != 1 or values[0] != f"Bearer {expected}":
            raise SimError("UNAUTHENTICATED", "invalid bearer token: token is not accepted")

    async def _get(self, req: Any) -> Any:
        return pb.GetActorResponse(actor=_actor(self.control.get(req.actor_id)))

    async def _create(self, req: Any) -> Any:
        rec = self.control.create(
            req.actor_id, req.actor_template_namespace, req.actor_template_name
        )
        return pb.CreateActorResponse(actor=_actor(rec))

    async def _suspend(self, req: Any) -> Any:
        return pb.SuspendActorResponse(actor=_actor(await self.control.suspend(req.actor_id)))

    async def _resume(self, req: Any) -> Any:
        rec = await self.control.resume(req.actor_id, boot=req.boot)
        return pb.ResumeActorResponse(actor=_actor(rec))

    async def _delete(self, req: Any) -> Any:
        self.control.delete(req.actor_id)
        return pb.DeleteActorResponse()

    async def _list_workers(self, req: Any) -> Any:
        workers = [_worker(w) for w in self.control.list_workers()]
        return pb.ListWorkersResponse(workers=workers)

    async def _list_actors(self, req: Any) -> Any:
        page, token = self.control.list_actors(req.page_size, req.page_token)
        return pb.ListActorsResponse(actors=[_actor(a) for a in page], next_page_token=token)

    async def _debug_clear(self, req: Any) -> Any:
        self.control.debug_clear()
        return pb.DebugClearResponse()


def _actor(rec: ActorRecord) -> Any:
    return actor_to_pb(rec.to_actor())


def _worker(rec: WorkerRecord) -> Any:
    return worker_to_pb(rec.to_worker())
