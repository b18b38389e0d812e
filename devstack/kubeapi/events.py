"""Events: ``events.k8s.io/v1`` and core ``v1`` served from one store, as the apiserver does.

The apiserver keeps one ``events`` storage (core ``v1`` form) and converts on the way in and
out (k8s.io/kubernetes ``pkg/apis/events/v1/conversion.go``): ``regarding`` is
``involvedObject``, ``note`` is ``message``, ``reportingController`` is ``reportingComponent``,
``deprecatedSource``/``deprecatedFirstTimestamp``/``deprecatedLastTimestamp``/``deprecatedCount``
are ``source``/``firstTimestamp``/``lastTimestamp``/``count``; ``eventTime``, ``series``,
``action``, ``reason``, ``related``, ``reportingInstance`` and ``type`` keep their names. So an
Event a controller writes with the events API shows up in ``kubectl get events`` and in
``kubectl describe`` of the object it regards, and the other way round.

Field selectors of the events API name the new fields; they are mapped to the core ones
(``AddFieldLabelConversionsForEvent``) and anything else is refused as the apiserver does.
"""

from __future__ import annotations

from typing import Any, Final

from devstack.kubeapi.errors import bad_request

CORE_KEY: Final = ("", "events")
"""Where both Event APIs store (group, plural)."""
EVENTS_API_KEY: Final = ("events.k8s.io", "events")

_TO_CORE: Final = {
    "regarding": "involvedObject",
    "note": "message",
    "reportingController": "reportingComponent",
    "deprecatedSource": "source",
    "deprecatedFirstTimestamp": "firstTimestamp",
    "deprecatedLastTimestamp": "lastTimestamp",
    "deprecatedCount": "count",
}
_FROM_CORE: Final = {core: new for new, core in _TO_CORE.items()}

_EVENTS_API_FIELDS: Final = {
    "reason": "reason",
    "regarding.kind": "involvedObject.kind",
    "regarding.namespace": "involvedObject.namespace",
    "regarding.name": "involvedObject.name",
    "regarding.uid": "involvedObject.uid",
    "regarding.apiVersion": "involvedObject.apiVersion",
    "regarding.resourceVersion": "involvedObject.resourceVersion",
    "regarding.fieldPath": "involvedObject.fieldPath",
    "reportingController": "reportingComponent",
    "source": "source",
    "type": "type",
    "metadata.namespace": "metadata.namespace",
    "metadata.name": "metadata.name",
}
_CORE_SELECTABLE: Final = {"source": "source.component"}
"""Core selectable fields that are not plain paths (``source`` selects ``source.component``)."""


def is_events_api(key: tuple[str, str]) -> bool:
    """True for the ``events.k8s.io`` resource (stored in core form)."""
    return key == EVENTS_API_KEY


def _renamed(obj: dict[str, Any], names: dict[str, str], api_version: str) -> dict[str, Any]:
    out = {names.get(k, k): v for k, v in obj.items()}
    out["apiVersion"], out["kind"] = api_version, "Event"
    return out


def to_core(obj: dict[str, Any]) -> dict[str, Any]:
    """An ``events.k8s.io/v1`` Event in the stored core ``v1`` form."""
    return _renamed(obj, _TO_CORE, "v1")


def from_core(obj: dict[str, Any], api_version: str) -> dict[str, Any]:
    """A stored core Event as the events API serves it."""
    return _renamed(obj, _FROM_CORE, api_version)


def field_selector(key: tuple[str, str], text: str | None) -> str | None:
    """A field selector on either Event API rewritten to paths of the stored core form."""
    if not text or key not in (CORE_KEY, EVENTS_API_KEY):
        return text
    parts = []
    for part in text.split(","):
        if not part.strip():
            continue
        for op in ("!=", "==", "="):
            if op in part:
                label, value = part.split(op, 1)
                label = label.strip()
                if key == EVENTS_API_KEY:
                    if label not in _EVENTS_API_FIELDS:
                        raise bad_request(f"field label not supported: {label}")
                    label = _EVENTS_API_FIELDS[label]
                parts.append(f"{_CORE_SELECTABLE.get(label, label)}{op}{value}")
                break
        else:
            parts.append(part)
    return ",".join(parts)
