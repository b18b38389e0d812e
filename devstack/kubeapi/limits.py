"""The size limits of a real apiserver and its etcd (issue 15 item 4).

kube-apiserver refuses request bodies over 3 MiB (HTTP 413) and etcd refuses to store a value
over its ``--max-request-bytes`` (1.5 MiB by default), which the apiserver reports as HTTP 500
``etcdserver: request is too large``. The stand-in does the same, so code that generates large
objects meets the failure here first.
"""

from __future__ import annotations

import json
from typing import Any, Final

from devstack.kubeapi.errors import ApiError

MAX_REQUEST_BYTES: Final = 3 * 1024 * 1024
MAX_STORED_BYTES: Final = 1536 * 1024


def too_large_request() -> ApiError:
    """413 as the apiserver answers a body over 3 MiB."""
    return ApiError(
        413,
        "RequestEntityTooLarge",
        f"Request entity too large: limit is {MAX_REQUEST_BYTES}",
    )


def check_stored_size(obj: dict[str, Any]) -> None:
    """Raise the apiserver's 500 when ``obj`` is larger than etcd stores."""
    size = len(json.dumps(obj, separators=(",", ":")).encode())
    if size > MAX_STORED_BYTES:
        raise ApiError(500, "InternalError", "etcdserver: request is too large")
