"""Wire version v1 (reference shape, spec/ateapi.md §2): method paths and message classes.

The only module besides `convert` that touches the generated stubs. A second wire version
(upstream atespaces/ActorRef, spec §8) would be a sibling ``wire_v2.py`` with its own table
and converters, chosen by config; the client's public API would not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from shared.ateapi.gen import ateapi_pb2 as pb

SERVICE: Final = "ateapi.Control"


@dataclass(frozen=True, slots=True)
class Method:
    """One unary RPC of the Control service."""

    name: str
    request: Any
    response: Any
    idempotent: bool

    @property
    def path(self) -> str:
        """The gRPC method path, e.g. ``/ateapi.Control/GetActor``."""
        return f"/{SERVICE}/{self.name}"


#: Resume and Suspend are re-entrant at the server (spec §3.3/§3.4), so they retry safely;
#: Create, Delete and DebugClear do not (a retry could turn success into ALREADY_EXISTS or
#: NOT_FOUND, or wipe twice).
METHODS: Final[dict[str, Method]] = {
    m.name: m
    for m in (
        Method("GetActor", pb.GetActorRequest, pb.GetActorResponse, True),
        Method("CreateActor", pb.CreateActorRequest, pb.CreateActorResponse, False),
        Method("SuspendActor", pb.SuspendActorRequest, pb.SuspendActorResponse, True),
        Method("ResumeActor", pb.ResumeActorRequest, pb.ResumeActorResponse, True),
        Method("DeleteActor", pb.DeleteActorRequest, pb.DeleteActorResponse, False),
        Method("ListWorkers", pb.ListWorkersRequest, pb.ListWorkersResponse, True),
        Method("ListActors", pb.ListActorsRequest, pb.ListActorsResponse, True),
        Method("DebugClear", pb.DebugClearRequest, pb.DebugClearResponse, False),
    )
}

__all__ = ["METHODS", "SERVICE", "Method", "pb"]
