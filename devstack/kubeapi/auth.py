"""Authentication by static bearer tokens and authorization from a small static RBAC table.

The same table answers TokenReview and SubjectAccessReview (the gateway uses them) and
guards every API request. ``system:masters`` may do everything, as in a cluster.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from shared.errors import InputError
from shared.secrets import Secret

MASTERS = "system:masters"


@dataclass(frozen=True, slots=True)
class User:
    """An authenticated identity."""

    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""

    def info(self) -> dict[str, Any]:
        """``authentication.k8s.io/v1`` UserInfo."""
        return {
            "username": self.name,
            "uid": self.uid,
            "groups": [*self.groups, "system:authenticated"],
        }


@dataclass(frozen=True, slots=True)
class Rule:
    """One RBAC-like grant: subjects may use verbs on resources (``*`` matches all)."""

    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ("*",)
    api_groups: tuple[str, ...] = ("*",)
    resources: tuple[str, ...] = ("*",)
    namespaces: tuple[str, ...] = ()
    """Empty: every namespace and cluster-scoped resources."""

    def allows(self, user: User, verb: str, group: str, resource: str, namespace: str) -> bool:
        """Whether this rule grants the request."""
        if user.name not in self.users and not set(user.groups) & set(self.groups):
            return False
        return (
            ("*" in self.verbs or verb in self.verbs)
            and ("*" in self.api_groups or group in self.api_groups)
            and ("*" in self.resources or resource in self.resources)
            and (not self.namespaces or namespace in self.namespaces)
        )


@dataclass(frozen=True, slots=True)
class AuthTable:
    """Tokens -> users, and the rules that authorize them."""

    tokens: tuple[tuple[Secret, User], ...] = ()
    rules: tuple[Rule, ...] = field(default=())

    def authenticate(self, token: str) -> User | None:
        """The user of a bearer token, or None (constant-time comparison)."""
        found = None
        for secret, user in self.tokens:
            if hmac.compare_digest(secret.reveal().encode(), token.encode()):
                found = user
        return found

    def authorize(self, user: User, verb: str, group: str, resource: str, namespace: str) -> bool:
        """Whether ``user`` may ``verb`` the resource in ``namespace`` ("" for cluster scope)."""
        if MASTERS in user.groups:
            return True
        return any(r.allows(user, verb, group, resource, namespace) for r in self.rules)

    def with_token(self, token: Secret, user: User) -> AuthTable:
        """A copy with one more token."""
        return AuthTable((*self.tokens, (token, user)), self.rules)


def _tuple(value: Any, default: tuple[str, ...] = ()) -> tuple[str, ...]:
    if value is None:
        return default
    if not isinstance(value, list):
        raise InputError(f"expected a list, got {value!r}")
    return tuple(str(v) for v in value)


def load_auth_file(path: Path) -> AuthTable:
    """Read ``users: [{name, token, groups}]`` and ``rules: [{users, groups, verbs, …}]``."""
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"--auth-file {path}: cannot read it: {exc}") from exc
    tokens = []
    for entry in data.get("users") or []:
        if not entry.get("name") or not entry.get("token"):
            raise InputError(f"--auth-file {path}: every users[] entry needs name and token")
        user = User(str(entry["name"]), _tuple(entry.get("groups")), str(entry.get("uid", "")))
        tokens.append((Secret(str(entry["token"])), user))
    rules = [
        Rule(
            users=_tuple(r.get("users")),
            groups=_tuple(r.get("groups")),
            verbs=_tuple(r.get("verbs"), ("*",)),
            api_groups=_tuple(r.get("apiGroups"), ("*",)),
            resources=_tuple(r.get("resources"), ("*",)),
            namespaces=_tuple(r.get("namespaces")),
        )
        for r in data.get("rules") or []
    ]
    return AuthTable(tuple(tokens), tuple(rules))


def token_review(table: AuthTable, body: dict[str, Any]) -> dict[str, Any]:
    """Answer a TokenReview from the token table."""
    token = str((body.get("spec") or {}).get("token") or "")
    user = table.authenticate(token) if token else None
    status: dict[str, Any] = {"authenticated": user is not None}
    if user is not None:
        status["user"] = user.info()
        status["audiences"] = (body.get("spec") or {}).get("audiences") or []
    else:
        status["error"] = "invalid bearer token"
    return {**body, "status": status}


def subject_access_review(table: AuthTable, body: dict[str, Any]) -> dict[str, Any]:
    """Answer a SubjectAccessReview from the RBAC table."""
    spec = body.get("spec") or {}
    user = User(str(spec.get("user", "")), _tuple(spec.get("groups")), str(spec.get("uid", "")))
    attrs = spec.get("resourceAttributes") or {}
    resource = str(attrs.get("resource", ""))
    if attrs.get("subresource"):
        resource += f"/{attrs['subresource']}"
    allowed = table.authorize(
        user,
        str(attrs.get("verb", "")),
        str(attrs.get("group", "")),
        resource,
        str(attrs.get("namespace", "")),
    )
    status = {"allowed": allowed}
    if not allowed:
        status["reason"] = "no rule in the devstack RBAC table allows it"
    return {**body, "status": status}
