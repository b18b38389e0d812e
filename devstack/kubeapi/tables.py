"""``meta.k8s.io/v1`` Table responses (what ``kubectl get`` prints), from printer columns.

Custom resources use their CRD's additionalPrinterColumns (JSONPath subset: fields, indexes,
``[*]`` and ``[?(@.f=="v")]`` filters); built-ins use a short column list modelled on the
apiserver's; Events use the apiserver's own Event printer (``LAST SEEN``, ``OBJECT``, ...).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any, Final

from devstack.kubeapi import events
from devstack.kubeapi.resources import ResourceType

_TOKEN = re.compile(
    r"\.([A-Za-z0-9_$-]+)|\[(\d+|\*)\]|\[\?\(@\.([A-Za-z0-9_.-]+)\s*(==|!=)\s*(\"[^\"]*\"|'[^']*'|[^)\s]+)\)\]|\['([^']+)'\]"
)


def jsonpath(obj: Any, path: str) -> list[Any]:
    """Evaluate a simple JSONPath (``.a.b[0][?(@.type=="Ready")].status``)."""
    path = path.strip()
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1]
    if path.startswith("$"):
        path = path[1:]
    current = [obj]
    pos = 0
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if not m:
            return []
        pos = m.end()
        field, index, fkey, fop, fval, quoted = m.groups()
        nxt: list[Any] = []
        for cur in current:
            if field is not None or quoted is not None:
                key = field if field is not None else quoted
                if isinstance(cur, dict) and key in cur:
                    nxt.append(cur[key])
            elif index is not None:
                if isinstance(cur, list):
                    if index == "*":
                        nxt.extend(cur)
                    elif int(index) < len(cur):
                        nxt.append(cur[int(index)])
                elif isinstance(cur, dict) and index == "*":
                    nxt.extend(cur.values())
            elif fkey is not None and isinstance(cur, list):
                want = fval.strip("\"'")
                for item in cur:
                    got = jsonpath(item, "." + fkey)
                    val = "" if not got else _text(got[0])
                    if (val == want) == (fop == "=="):
                        nxt.append(item)
        current = nxt
    return current


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def human_duration(seconds: float) -> str:
    """Kubernetes ``duration.HumanDuration``."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def age(timestamp: Any) -> str:
    """Age of an RFC 3339 timestamp, like a ``date`` column."""
    if not isinstance(timestamp, str):
        return "<unknown>"
    try:
        t = dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return "<invalid>"
    return human_duration((dt.datetime.now(dt.UTC) - t).total_seconds())


def _cell(col_type: str, values: list[Any]) -> Any:
    if not values:
        return None
    value = values[0]
    if col_type == "date":
        return age(value)
    if col_type == "string":
        return _text(value) if not isinstance(value, str) else value
    if col_type == "integer" and isinstance(value, int | float):
        return int(value)
    if col_type == "number" and isinstance(value, int | float):
        return value
    if col_type == "boolean" and isinstance(value, bool):
        return value
    return _text(value)


_BUILTIN_COLUMNS: dict[str, list[dict[str, Any]]] = {
    "Namespace": [{"name": "Status", "type": "string", "jsonPath": ".status.phase"}],
    "ConfigMap": [{"name": "Data", "type": "integer", "jsonPath": "#data"}],
    "Secret": [
        {"name": "Type", "type": "string", "jsonPath": ".type"},
        {"name": "Data", "type": "integer", "jsonPath": "#data"},
    ],
    "ServiceAccount": [{"name": "Secrets", "type": "integer", "jsonPath": "#secrets"}],
    "Lease": [{"name": "Holder", "type": "string", "jsonPath": ".spec.holderIdentity"}],
}
_AGE = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}


def columns(rt: ResourceType, version: str) -> list[dict[str, Any]]:
    """Printer columns after Name: the CRD's, else the built-in list, plus Age."""
    if rt.custom:
        cols = list(rt.printer_columns.get(version, ()))
        return cols if cols else [_AGE]
    if rt.kind == "CustomResourceDefinition":
        return [
            {
                "name": "Created At",
                "type": "date",
                "jsonPath": ".metadata.creationTimestamp",
                "raw": True,
            }
        ]
    return [*_BUILTIN_COLUMNS.get(rt.kind, []), _AGE]


def _row_cells(cols: list[dict[str, Any]], obj: dict[str, Any]) -> list[Any]:
    cells: list[Any] = [obj["metadata"].get("name", "")]
    for col in cols:
        path = col.get("jsonPath", "")
        if path.startswith("#"):
            cells.append(len(obj.get(path[1:]) or {}))
        elif col.get("raw"):
            cells.append(obj["metadata"].get("creationTimestamp"))
        else:
            cells.append(_cell(col.get("type", "string"), jsonpath(obj, path)))
    return cells


def _definitions(cols: list[dict[str, Any]]) -> list[dict[str, Any]]:
    defs = [
        {
            "name": "Name",
            "type": "string",
            "format": "name",
            "description": "Name must be unique within a namespace.",
            "priority": 0,
        }
    ]
    for col in cols:
        defs.append(
            {
                "name": col.get("name", ""),
                "type": "string" if col.get("type") == "date" else col.get("type", "string"),
                "format": col.get("format", ""),
                "description": col.get("description", ""),
                "priority": int(col.get("priority", 0)),
            }
        )
    return defs


def _since(stamp: Any) -> str:
    """``translateTimestampSince``: ``<unknown>`` for a zero time."""
    return age(stamp) if stamp else "<unknown>"


_EVENT_COLUMNS: Final = (
    ("Last Seen", "string", 0),
    ("Type", "string", 0),
    ("Reason", "string", 0),
    ("Object", "string", 0),
    ("Subobject", "string", 1),
    ("Source", "string", 1),
    ("Message", "string", 0),
    ("First Seen", "string", 1),
    ("Count", "integer", 1),
    ("Name", "string", 1),
)
"""The apiserver's Event printer columns (``kubectl get events``; priority 1 with ``-o wide``)."""


def _event_cells(core: dict[str, Any]) -> list[Any]:
    """One row of the apiserver's Event printer (``printEvent``) for a stored core Event."""
    first = _since(core.get("firstTimestamp") or core.get("eventTime"))
    last = _since(core["lastTimestamp"]) if core.get("lastTimestamp") else first
    count = int(core.get("count") or 1)
    series = core.get("series")
    if isinstance(series, dict):
        last, count = _since(series.get("lastObservedTime")), int(series.get("count") or 0)
    involved = core.get("involvedObject") or {}
    kind = str(involved.get("kind") or "").lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    source = core.get("source") or {}
    component = source.get("component") or core.get("reportingComponent") or ""
    where = source.get("host") or core.get("reportingInstance") or ""
    return [
        last,
        core.get("type", ""),
        core.get("reason", ""),
        target,
        involved.get("fieldPath", ""),
        f"{component}, {where}" if where else component,
        str(core.get("message") or "").strip(),
        first,
        count,
        core["metadata"].get("name", ""),
    ]


def _event_definitions() -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "type": typ,
            "format": "name" if name == "Name" else "",
            "description": "",
            "priority": priority,
        }
        for name, typ, priority in _EVENT_COLUMNS
    ]


def to_table(
    rt: ResourceType,
    version: str,
    objects: list[dict[str, Any]],
    *,
    include_object: str = "Metadata",
    list_meta: dict[str, Any] | None = None,
    with_definitions: bool = True,
) -> dict[str, Any]:
    """A Table for objects already rendered in ``version``."""
    cols = columns(rt, version)
    is_event = rt.kind == "Event" and not rt.custom
    rows = []
    for obj in objects:
        if is_event:
            core = events.to_core(obj) if events.is_events_api(rt.key) else obj
            row: dict[str, Any] = {"cells": _event_cells(core)}
        else:
            row = {"cells": _row_cells(cols, obj)}
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": obj["metadata"],
            }
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta or {},
        "columnDefinitions": (_event_definitions() if is_event else _definitions(cols))
        if with_definitions
        else [],
        "rows": rows,
    }
