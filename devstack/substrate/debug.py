"""``/debug``: actors, workers, templates, pools and faults as HTML (humans) or JSON (tools),
plus POST endpoints to change capacity, faults and workloads at runtime.

Endpoints: ``GET /debug`` (HTML; ``?format=json`` or ``Accept: application/json`` for JSON),
``POST/DELETE /debug/faults``, ``POST /debug/pools``, ``POST /debug/templates``,
``POST /debug/workers/delete``, ``POST /debug/workloads/{actor_id}``, ``POST /debug/drop``.
"""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from devstack.substrate.state import TemplateInfo
from devstack.substrate.workload import describe
from shared.ateapi.convert import status_name
from shared.errors import InputError

if TYPE_CHECKING:
    from devstack.substrate.server import Simulator

MAX_BODY = 64 * 1024


def state_json(sim: Simulator) -> dict[str, Any]:
    """Everything the simulator holds, JSON-ready."""
    return {
        "actors": [
            _actor_dict(a) for a in sorted(sim.store.actors.values(), key=lambda a: a.actor_id)
        ],
        "workers": [
            {
                "namespace": w.namespace,
                "pool": w.pool,
                "pod": w.pod,
                "ip": w.ip,
                "uid": w.uid,
                "version": w.version,
                "actor_id": w.actor_id,
                "actor_namespace": w.actor_namespace,
                "actor_template": w.actor_template,
            }
            for w in sorted(sim.store.workers.values(), key=lambda w: w.key)
        ],
        "templates": [
            {
                "namespace": t.namespace,
                "name": t.name,
                "pool": f"{t.pool_namespace}/{t.pool_name}",
                "snapshot_location": t.snapshot_location,
                "golden_snapshot": t.golden_snapshot,
            }
            for t in sim.store.templates.values()
        ],
        "pools": {f"{ns}/{name}": n for (ns, name), n in sim.control.pools.items()},
        "locks": sorted(sim.store.locks),
        "faults": sim.control.faults.snapshot(),
        "workloads": describe(sim.workloads),
        "calls": dict(sim.service.calls) if sim.service else {},
        "template_phases": dict(sim.template_phases),
    }


def _actor_dict(a: Any) -> dict[str, Any]:
    return {
        "actor_id": a.actor_id,
        "version": a.version,
        "template": f"{a.template_namespace}/{a.template_name}",
        "status": status_name(a.status),
        "pod": f"{a.pod_namespace}/{a.pod_name}" if a.pod_name else "",
        "pod_ip": a.pod_ip,
        "pod_uid": a.pod_uid,
        "last_snapshot": a.last_snapshot,
        "in_progress_snapshot": a.in_progress_snapshot,
        "restored_from": a.restored_from,
    }


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p><i>none</i></p>"
    cols = list(rows[0])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(r.get(c, '')))}</td>" for c in cols) + "</tr>"
        for r in rows
    )
    return f"<table border=1 cellpadding=3><tr>{head}</tr>{body}</table>"


def render_html(state: dict[str, Any]) -> str:
    """A plain HTML page of ``state``."""
    parts = ["<html><head><title>substrate simulator</title></head><body>"]
    for key in ("actors", "workers", "templates"):
        parts.append(f"<h2>{key} ({len(state[key])})</h2>{_table(state[key])}")
    for key in ("pools", "faults", "locks", "workloads", "calls", "template_phases"):
        text = html.escape(json.dumps(state[key], indent=2, sort_keys=True))
        parts.append(f"<h2>{key}</h2><pre>{text}</pre>")
    parts.append("</body></html>")
    return "".join(parts)


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise InputError(f"request body is larger than {MAX_BODY} bytes")
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        raise InputError("request body must be a JSON object") from None
    if not isinstance(data, dict):
        raise InputError("request body must be a JSON object")
    return data


def _field(data: dict[str, Any], name: str, kind: type = str) -> Any:
    value = data.get(name)
    if not isinstance(value, kind) or (kind is str and not value):
        raise InputError(f"field {name!r} is required ({kind.__name__})")
    return value


def make_debug_app(sim: Simulator) -> web.Application:
    """The /debug aiohttp app."""

    async def view(request: web.Request) -> web.Response:
        state = state_json(sim)
        wants_json = request.query.get(
            "format"
        ) == "json" or "application/json" in request.headers.get("Accept", "")
        if wants_json:
            return web.json_response(state)
        return web.Response(text=render_html(state), content_type="text/html")

    async def set_faults(request: web.Request) -> web.Response:
        data = await _body(request)
        method = _field(data, "method")
        knobs = {k: v for k, v in data.items() if k != "method"}
        sim.control.faults.set(method, **knobs)
        return web.json_response(sim.control.faults.snapshot())

    async def clear_faults(request: web.Request) -> web.Response:
        sim.control.faults.clear()
        return web.json_response({})

    async def set_pool(request: web.Request) -> web.Response:
        data = await _body(request)
        replicas = data.get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            raise InputError("field 'replicas' must be a non-negative integer")
        sim.control.set_pool_capacity(_field(data, "namespace"), _field(data, "name"), replicas)
        return web.json_response({"pools": state_json(sim)["pools"]})

    async def put_template(request: web.Request) -> web.Response:
        data = await _body(request)
        info = TemplateInfo(
            _field(data, "namespace"),
            _field(data, "name"),
            data.get("poolNamespace") or sim.config.pool[0],
            data.get("poolName") or sim.config.pool[1],
            data.get("snapshotLocation") or "gs://ate-snapshots/sim",
        )
        sim.control.put_template(info)
        return web.json_response({"ok": True})

    async def delete_worker(request: web.Request) -> web.Response:
        data = await _body(request)
        key = (_field(data, "namespace"), _field(data, "pool"), _field(data, "pod"))
        sim.control.remove_worker(key)
        return web.json_response({"ok": True})

    async def workload(request: web.Request) -> web.Response:
        data = await _body(request)
        fail = data.get("fail")
        if fail is not None and (not isinstance(fail, int) or not 400 <= fail <= 599):
            raise InputError("field 'fail' must be an HTTP status 400..599 or null")
        sim.workloads.get(request.match_info["actor_id"]).fail_status = fail
        return web.json_response({"ok": True})

    async def drop(request: web.Request) -> web.Response:
        dropped = sim.relay.drop_all() if sim.relay else 0
        return web.json_response({"dropped": dropped})

    @web.middleware
    async def input_errors(request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            response: web.StreamResponse = await handler(request)
            return response
        except InputError as err:
            return web.json_response({"error": str(err)}, status=400)

    app = web.Application(middlewares=[input_errors])
    app.router.add_get("/debug", view)
    app.router.add_post("/debug/faults", set_faults)
    app.router.add_delete("/debug/faults", clear_faults)
    app.router.add_post("/debug/pools", set_pool)
    app.router.add_post("/debug/templates", put_template)
    app.router.add_post("/debug/workers/delete", delete_worker)
    app.router.add_post("/debug/workloads/{actor_id}", workload)
    app.router.add_post("/debug/drop", drop)
    return app
