"""The Events protocol the reconcilers record through (never a secret in ``note``)."""

from __future__ import annotations

from typing import Any, Protocol

from controller.runtime.recorder import EventRecorder


class Events(Protocol):
    """Records a Kubernetes Event about an object."""

    async def __call__(
        self, obj: dict[str, Any], type_: str, reason: str, action: str, note: str
    ) -> None: ...


def recorder_events(recorder: EventRecorder) -> Events:
    """`Events` backed by the de-duplicating `EventRecorder`."""

    async def record(obj: dict[str, Any], type_: str, reason: str, action: str, note: str) -> None:
        await recorder.record(obj, type_, reason, note, action=action)  # type: ignore[arg-type]

    return record
