"""Fault injection per RPC: latency, UNAVAILABLE bursts, dropped connections, atelet failures,
stuck SUSPENDING. Set by ``--fault`` flags and at runtime through ``POST /debug/faults``.

Counters (``unavailable``, ``drop``, ``atelet_fail``, ``stuck``) apply to the next N calls of
the method and count down; ``latency`` applies to every call until cleared. Method ``*``
applies to every RPC.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from devstack.substrate.errors import SimError
from shared.errors import InputError

METHOD_NAMES = (
    "GetActor",
    "CreateActor",
    "SuspendActor",
    "ResumeActor",
    "DeleteActor",
    "ListWorkers",
    "ListActors",
    "DebugClear",
)
KNOBS = ("latency", "unavailable", "drop", "atelet_fail", "stuck")


@dataclass(slots=True)
class MethodFaults:
    """Faults armed for one method (or ``*``)."""

    latency: float = 0.0
    unavailable: int = 0
    drop: int = 0
    atelet_fail: int = 0
    stuck: int = 0


@dataclass(frozen=True, slots=True)
class Action:
    """What the transport must do for one call before running it."""

    latency: float = 0.0
    unavailable: bool = False
    drop: bool = False


@dataclass(slots=True)
class Faults:
    """All armed faults; cheap to consult when nothing is armed."""

    methods: dict[str, MethodFaults] = field(default_factory=dict)

    def set(self, method: str, **knobs: Any) -> None:
        """Arm knobs for ``method``; unknown method or knob → `InputError` naming it."""
        if method != "*" and method not in METHOD_NAMES:
            raise InputError(
                f"fault method {method!r} is unknown; use one of {', '.join(METHOD_NAMES)} or *"
            )
        parsed: dict[str, float | int] = {}
        for knob, value in knobs.items():
            if knob not in KNOBS:
                raise InputError(f"fault knob {knob!r} is unknown; use {', '.join(KNOBS)}")
            try:
                number = float(value) if knob == "latency" else int(value)
            except (TypeError, ValueError):
                raise InputError(f"fault {method}:{knob} needs a number, got {value!r}") from None
            if number < 0:
                raise InputError(f"fault {method}:{knob} must not be negative")
            parsed[knob] = number
        current = self.methods.setdefault(method, MethodFaults())
        for knob, number in parsed.items():
            setattr(current, knob, number)

    def clear(self) -> None:
        """Disarm everything."""
        self.methods.clear()

    def snapshot(self) -> dict[str, dict[str, float]]:
        """JSON view for /debug."""
        return {m: dataclasses.asdict(f) for m, f in self.methods.items()}

    def _armed(self, method: str) -> list[MethodFaults]:
        return [f for m in (method, "*") if (f := self.methods.get(m)) is not None]

    def take(self, method: str) -> Action:
        """Consume the transport faults for one call of ``method``."""
        if not self.methods:
            return Action()
        latency, unavailable, drop = 0.0, False, False
        for armed in self._armed(method):
            latency = max(latency, armed.latency)
            if armed.drop and not drop:
                armed.drop -= 1
                drop = True
            elif armed.unavailable and not unavailable:
                armed.unavailable -= 1
                unavailable = True
        return Action(latency, unavailable, drop)

    def take_atelet_failure(self, method: str) -> SimError | None:
        """An atelet error to return from the workflow's atelet step, if armed."""
        for armed in self._armed(method):
            if armed.atelet_fail:
                armed.atelet_fail -= 1
                return SimError("UNAVAILABLE", "atelet: connection refused (fault injection)")
        return None

    def take_stuck_suspending(self) -> bool:
        """True when the next checkpoint must hang (actor left SUSPENDING)."""
        for armed in self._armed("SuspendActor"):
            if armed.stuck:
                armed.stuck -= 1
                return True
        return False


def parse_fault_flag(text: str) -> tuple[str, dict[str, str]]:
    """``METHOD:knob=value,knob=value`` → (method, knobs); bad syntax → `InputError`."""
    method, sep, rest = text.partition(":")
    if not sep or not method or not rest:
        raise InputError(
            f"--fault {text!r}: expected METHOD:knob=value[,knob=value], e.g. GetActor:latency=0.5"
        )
    knobs: dict[str, str] = {}
    for part in rest.split(","):
        knob, eq, value = part.partition("=")
        if not eq:
            raise InputError(f"--fault {text!r}: {part!r} is not knob=value")
        knobs[knob.strip()] = value.strip()
    return method.strip(), knobs
