"""The aiohttp application: routes, authentication, authorization, faults and error shaping."""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from devstack.kubeapi import discovery, openapi
from devstack.kubeapi.auth import User
from devstack.kubeapi.errors import ApiError, forbidden, internal, method_not_allowed, unauthorized
from devstack.kubeapi.handlers import ResourceHandlers, _flag, json_response
from devstack.kubeapi.limits import MAX_REQUEST_BYTES
from devstack.kubeapi.routing import not_served, parse
from devstack.kubeapi.state import ApiState

log = logging.getLogger(__name__)

STATE: web.AppKey[ApiState] = web.AppKey("state", ApiState)
USER: web.RequestKey[User] = web.RequestKey("user", User)
_PUBLIC = {"/version", "/healthz", "/readyz", "/livez"}
_METHOD_VERBS = {
    "GET": "get",
    "POST": "create",
    "PUT": "update",
    "PATCH": "patch",
    "DELETE": "delete",
}


def _user(request: web.Request, state: ApiState) -> User | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    return state.auth.authenticate(header[7:].strip())


@web.middleware
async def _errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        resp: web.StreamResponse = await handler(request)
        return resp
    except ApiError as exc:
        resp = json_response(exc.status(), exc.code)
        for k, v in exc.headers.items():
            resp.headers[k] = v
        return resp
    except web.HTTPNotFound:
        return json_response(not_served().status(), 404)
    except web.HTTPMethodNotAllowed:
        return json_response(method_not_allowed().status(), 405)
    except web.HTTPException:
        raise
    except (ConnectionError, TimeoutError) as exc:
        log.debug("client went away: %s", exc)
        raise
    except Exception as exc:  # never a traceback to the client
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_response(internal(type(exc).__name__).status(), 500)


@web.middleware
async def _authenticate(request: web.Request, handler: Any) -> web.StreamResponse:
    if request.path in _PUBLIC:
        resp: web.StreamResponse = await handler(request)
        return resp
    user = _user(request, request.app[STATE])
    if user is None:
        raise unauthorized()
    request[USER] = user
    resp = await handler(request)
    return resp


def _verb(request: web.Request, named: bool) -> str:
    if request.method == "GET":
        if _flag(request.query.get("watch")) or "/watch/" in request.path:
            return "watch"
        return "get" if named else "list"
    if request.method == "DELETE" and not named:
        return "deletecollection"
    return _METHOD_VERBS.get(request.method, request.method.lower())


async def _resource(
    request: web.Request, group: str, version: str, tail: str
) -> web.StreamResponse:
    state = request.app[STATE]
    handlers = ResourceHandlers(state)
    target = parse(state.registry, group, version, [s for s in tail.split("/") if s])
    verb = _verb(request, target.name is not None)
    user: User = request[USER]
    resource = target.rt.plural + (f"/{target.subresource}" if target.subresource else "")
    if not state.auth.authorize(user, verb, target.rt.group, resource, target.namespace or ""):
        scope = (
            f' in the namespace "{target.namespace}"'
            if target.namespace
            else " at the cluster scope"
        )
        raise forbidden(
            f"{target.rt.plural}{'.' + target.rt.group if target.rt.group else ''} "
            f"{('' if target.name is None else repr(target.name).replace(chr(39), chr(34)) + ' ')}is forbidden: "
            f'User "{user.name}" cannot {verb} resource "{resource}" in API group "{target.rt.group}"{scope}',
            details={"name": target.name or "", "group": target.rt.group, "kind": target.rt.plural},
        )
    if verb not in target.rt.verbs and not (
        target.subresource and verb in ("get", "update", "patch")
    ):
        raise method_not_allowed()
    state.requests[(user.name, verb, resource)] += 1
    await state.faults.before(verb, target.rt.plural, target.name or "")
    if request.method == "GET":
        return await (
            handlers.get(request, target)
            if target.name is not None
            else handlers.list(request, target)
        )
    if request.method == "POST":
        return await handlers.create(request, target, user)
    if request.method == "PUT":
        return await handlers.update(request, target, user)
    if request.method == "PATCH":
        return await handlers.patch(request, target, user)
    if request.method == "DELETE":
        return await handlers.delete(request, target, user)
    raise method_not_allowed()


async def _core(request: web.Request) -> web.StreamResponse:
    tail = request.match_info["tail"].strip("/")
    state = request.app[STATE]
    if not tail:
        return json_response(discovery.api_versions(state.address))
    version, _, rest = tail.partition("/")
    if not rest:
        body = discovery.resource_list(state.registry, "", version)
        if body is None:
            raise not_served()
        return json_response(body)
    return await _resource(request, "", version, rest)


async def _groups(request: web.Request) -> web.StreamResponse:
    tail = request.match_info["tail"].strip("/")
    state = request.app[STATE]
    if not tail:
        return json_response(discovery.api_group_list(state.registry))
    parts = tail.split("/", 2)
    if len(parts) == 1:
        body = discovery.api_group(state.registry, parts[0])
    elif len(parts) == 2:
        body = discovery.resource_list(state.registry, parts[0], parts[1])
    else:
        return await _resource(request, parts[0], parts[1], parts[2])
    if body is None:
        raise not_served()
    return json_response(body)


async def _version(request: web.Request) -> web.StreamResponse:
    return json_response(discovery.VERSION_INFO)


async def _health(request: web.Request) -> web.StreamResponse:
    return web.Response(text="ok")


async def _openapi_v3(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    tail = request.match_info["tail"].strip("/")
    if not tail:
        return json_response(openapi.root(state.registry))
    parts = tail.split("/")
    if parts[0] == "api" and len(parts) == 2:
        body = openapi.group_version(state.registry, "", parts[1])
    elif parts[0] == "apis" and len(parts) == 3:
        body = openapi.group_version(state.registry, parts[1], parts[2])
    else:
        body = None
    if body is None:
        raise not_served()
    return json_response(body)


async def _openapi_v2(request: web.Request) -> web.StreamResponse:
    raise not_served()


async def _faults(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    user: User = request[USER]
    if not state.auth.authorize(user, "*", "*", "*", ""):
        raise forbidden(f'User "{user.name}" may not change devstack faults')
    if request.method == "DELETE":
        state.faults.clear()
    elif request.method == "POST":
        try:
            body = json.loads(await request.read() or b"{}")
        except ValueError as exc:
            raise ApiError(400, "BadRequest", f"invalid JSON: {exc}") from exc
        state.faults.configure(body)
        dropped = state.hub.drop_all() if body.get("dropWatches") else 0
        if body.get("compact"):
            state.store.compact()
        return json_response({**state.faults.as_dict(), "droppedWatches": dropped})
    return json_response({**state.faults.as_dict(), "openWatches": state.hub.open_count})


async def _requests(request: web.Request) -> web.StreamResponse:
    """``GET``: requests served per user, verb and resource since start (or the last
    ``DELETE``, which resets the counters)."""
    state = request.app[STATE]
    user: User = request[USER]
    if not state.auth.authorize(user, "*", "*", "*", ""):
        raise forbidden(f'User "{user.name}" may not read devstack request counters')
    if request.method == "DELETE":
        state.requests.clear()
        return json_response({"users": {}})
    users: dict[str, dict[str, dict[str, int]]] = {}
    for (name, verb, resource), count in sorted(state.requests.items()):
        users.setdefault(name, {}).setdefault(verb, {})[resource] = count
    return json_response({"users": users})


def make_app(state: ApiState) -> web.Application:
    """The application serving one state."""
    app = web.Application(middlewares=[_errors, _authenticate], client_max_size=MAX_REQUEST_BYTES)
    app[STATE] = state
    app.router.add_get("/version", _version)
    for path in ("/healthz", "/readyz", "/livez"):
        app.router.add_get(path, _health)
    app.router.add_route("*", "/api{tail:(/.*)?}", _core)
    app.router.add_route("*", "/apis{tail:(/.*)?}", _groups)
    app.router.add_get("/openapi/v3{tail:(/.*)?}", _openapi_v3)
    app.router.add_get("/openapi/v2", _openapi_v2)
    app.router.add_route("*", "/devstack/faults", _faults)
    app.router.add_route("GET", "/devstack/requests", _requests)
    app.router.add_route("DELETE", "/devstack/requests", _requests)
    return app
