"""Find secret values in generated objects, also inside base64 strings (issue 15 item 2)."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from typing import Any

_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")


def strings(value: Any) -> Iterator[str]:
    """Every string (keys included) anywhere in a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def decoded(text: str) -> Iterator[str]:
    """``text`` and what every base64-looking run in it decodes to (recursively, 3 levels)."""
    pending, seen = [text], 0
    while pending and seen < 1000:
        current = pending.pop()
        seen += 1
        yield current
        for run in _BASE64_RUN.findall(current):
            for candidate in (run, run[: len(run) - len(run) % 4]):
                try:
                    raw = base64.b64decode(candidate + "=" * (-len(candidate) % 4), validate=True)
                except (binascii.Error, ValueError):
                    continue
                pending.append(raw.decode("utf-8", "replace"))
                break


def hits(obj: Any, canaries: dict[str, str]) -> list[str]:
    """Labels of the canaries found in ``obj``'s strings, plain or base64-decoded."""
    texts = [t for s in strings(obj) for t in decoded(s)]
    texts.append(json.dumps(obj))
    return sorted({label for label, value in canaries.items() for t in texts if value in t})
