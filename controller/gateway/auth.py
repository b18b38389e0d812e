"""Gateway authentication (TokenReview) and authorization (SubjectAccessReview), SPEC §8.

The reference accepts any authenticated kagent user and never checks who may reach which
agent. Here the caller's bearer token is reviewed by the Kubernetes API and the resulting user
must be allowed verb ``create`` on subresource ``gateway`` of the target object
(``agentharnesses/gateway`` or ``sandboxagents/gateway``, group ``kagent.dev``) in its
namespace, by name. Positive answers are cached briefly, keyed by a hash of the token; the
token itself is only held as a `Secret` and never logged.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from shared.kube.client import KubeClient
from shared.kube.resources import SUBJECT_ACCESS_REVIEW, TOKEN_REVIEW
from shared.secrets import Secret

GROUP: Final = "kagent.dev"
VERB: Final = "create"
SUBRESOURCE: Final = "gateway"


class AuthUnavailable(Exception):
    """The Kubernetes API could not answer the review (the caller gets 503, not 401)."""


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated user as TokenReview reported it."""

    username: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()


class _TtlCache:
    def __init__(self, ttl: float, size: int, clock: Callable[[], float]) -> None:
        self.ttl, self.size, self.clock = ttl, size, clock
        self._items: OrderedDict[Any, tuple[float, Any]] = OrderedDict()

    def get(self, key: Any) -> Any:
        found = self._items.get(key)
        if found is None or found[0] < self.clock():
            self._items.pop(key, None)
            return None
        return found[1]

    def put(self, key: Any, value: Any) -> None:
        if self.ttl <= 0:
            return
        self._items[key] = (self.clock() + self.ttl, value)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


class Authenticator:
    """TokenReview + SubjectAccessReview through the controller's Kubernetes client."""

    def __init__(
        self,
        kube: KubeClient,
        *,
        audiences: tuple[str, ...] = (),
        cache_ttl: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.kube = kube
        self.audiences = audiences
        self._users = _TtlCache(cache_ttl, 1024, clock)
        self._grants = _TtlCache(cache_ttl, 4096, clock)

    async def authenticate(self, token: Secret) -> Caller | None:
        """The user of ``token``, or None when the API says it is not valid."""
        digest = hashlib.sha256(token.reveal().encode()).hexdigest()
        cached = self._users.get(digest)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        spec: dict[str, Any] = {"token": token.reveal()}
        if self.audiences:
            spec["audiences"] = list(self.audiences)
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": spec}
        try:
            review = await self.kube.create(TOKEN_REVIEW, body)
        except Exception as exc:
            raise AuthUnavailable(f"TokenReview failed: {type(exc).__name__}") from None
        status = review.get("status") or {}
        if not status.get("authenticated"):
            return None
        user = status.get("user") or {}
        caller = Caller(
            username=str(user.get("username") or ""),
            uid=str(user.get("uid") or ""),
            groups=tuple(str(g) for g in user.get("groups") or []),
            extra=tuple(
                sorted(
                    (str(k), tuple(str(x) for x in v)) for k, v in (user.get("extra") or {}).items()
                )
            ),
        )
        if not caller.username:
            return None
        self._users.put(digest, caller)
        return caller

    async def authorize(self, caller: Caller, resource: str, namespace: str, name: str) -> bool:
        """Whether ``caller`` may ``create`` ``<resource>/gateway`` of ``namespace/name``."""
        key = (caller, resource, namespace, name)
        if self._grants.get(key):
            return True
        spec: dict[str, Any] = {
            "user": caller.username,
            "groups": list(caller.groups),
            "resourceAttributes": {
                "namespace": namespace,
                "verb": VERB,
                "group": GROUP,
                "resource": resource,
                "subresource": SUBRESOURCE,
                "name": name,
            },
        }
        if caller.uid:
            spec["uid"] = caller.uid
        if caller.extra:
            spec["extra"] = {k: list(v) for k, v in caller.extra}
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": spec,
        }
        try:
            review = await self.kube.create(SUBJECT_ACCESS_REVIEW, body)
        except Exception as exc:
            raise AuthUnavailable(f"SubjectAccessReview failed: {type(exc).__name__}") from None
        allowed = bool((review.get("status") or {}).get("allowed"))
        if allowed:
            self._grants.put(key, True)
        return allowed


def bearer(header: str) -> Secret | None:
    """The token of an ``Authorization: Bearer <t>`` header, or None."""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return Secret(value.strip())
