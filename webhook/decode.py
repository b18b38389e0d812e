"""Decode an AdmissionReview body as kube-apiserver's JSON decoder would: a key given twice
keeps its last value, and the paths of such duplicate fields inside ``request.object`` are
kept so the verdict can report them per ``fieldValidation`` (SPEC §2.2: same verdict as
`check`). Nesting beyond the API server's 10,000 levels is refused (`shared.nesting`).

``json`` with an ``object_pairs_hook`` sees every key (orjson would silently keep the last);
it also reads integers of any size exactly, as ``json.loads`` does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from shared.nesting import MAX_NESTING, TOO_DEEP_TEXT, depth_exceeds
from webhook.review import ReviewError

_ENVELOPE_LEVELS = 2
"""AdmissionReview -> request -> object."""


@dataclass(slots=True)
class Decoded:
    """A decoded body and the objects that had a key twice."""

    data: Any
    twice: dict[int, list[str]] = field(default_factory=dict)
    """``id(mapping)`` -> keys given more than once in it (the last value was kept)."""

    def duplicate_paths(self, root: Any) -> tuple[str, ...]:
        """Paths (``spec.backend``) of duplicate fields inside ``root`` (request.object)."""
        if not self.twice:
            return ()
        found: list[str] = []
        stack: list[tuple[Any, str]] = [(root, "")]
        while stack:
            value, path = stack.pop()
            if type(value) is dict:
                found += [f"{path}.{k}" if path else k for k in self.twice.get(id(value), ())]
                stack += [(v, f"{path}.{k}" if path else k) for k, v in value.items()]
            elif type(value) is list:
                stack += [(v, f"{path}[{i}]") for i, v in enumerate(value)]
        return tuple(sorted(found))


def decode(body: bytes) -> Decoded:
    """``json.loads``' result plus the duplicate keys; `ReviewError` for malformed input."""
    result = Decoded(None)

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            counts: dict[str, int] = {}
            for key, _ in pairs:
                counts[key] = counts.get(key, 0) + 1
            result.twice[id(obj)] = sorted(k for k, n in counts.items() if n > 1)
        return obj

    try:
        result.data = json.loads(body, object_pairs_hook=pairs_hook)
    except (ValueError, RecursionError) as exc:
        reason = exc.args[0] if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
        raise ReviewError(f"malformed JSON: {str(reason)[:200]}") from None
    # The limit is the object's (request.object is 2 levels into the review). Only a body with
    # more than MAX_NESTING brackets can nest that deep: walk only those.
    if body.count(b"{") + body.count(b"[") > MAX_NESTING and depth_exceeds(
        result.data, MAX_NESTING + _ENVELOPE_LEVELS
    ):
        raise ReviewError(f"malformed JSON: the object is {TOO_DEEP_TEXT}")
    return result
