"""Async client for Agent Substrate's ate-api ``Control`` service (wire version v1).

Callers use `AteApiClient` with an `AteApiConfig` and get `Actor`/`Worker` dataclasses back and
`AteApiError` subclasses on failure; no grpc or protobuf type crosses this package's boundary.
"""

from shared.ateapi.client import AteApiClient
from shared.ateapi.config import AteApiConfig, RetryPolicy
from shared.ateapi.convert import Actor, ActorPage, ActorStatus, Worker, status_label, status_name
from shared.ateapi.errors import (
    AlreadyExists,
    AteApiError,
    DeadlineExceeded,
    FailedPrecondition,
    NoFreeWorkers,
    NotFound,
    NotSuspended,
    TlsError,
    TokenFileError,
    Unavailable,
)

__all__ = [
    "Actor",
    "ActorPage",
    "ActorStatus",
    "AlreadyExists",
    "AteApiClient",
    "AteApiConfig",
    "AteApiError",
    "DeadlineExceeded",
    "FailedPrecondition",
    "NoFreeWorkers",
    "NotFound",
    "NotSuspended",
    "RetryPolicy",
    "TlsError",
    "TokenFileError",
    "Unavailable",
    "Worker",
    "status_label",
    "status_name",
]
