"""Logging setup shared by every process: one line per event, text or JSON.

Context (kind, namespace, object_name, reconcile_id, ...) travels in ``extra=``
(``name`` is reserved by `logging.LogRecord`); the formatters print
the known context keys and nothing else, so an object or a token is never dumped by accident.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Final

CONTEXT_KEYS: Final = (
    "controller",
    "kind",
    "namespace",
    "object_name",
    "reconcile_id",
    "actor_id",
    "method",
    "code",
    "uid",
    "operation",
    "allowed",
    "duration_ms",
    "url",
)


def _context(record: logging.LogRecord) -> dict[str, object]:
    return {k: getattr(record, k) for k in CONTEXT_KEYS if hasattr(record, k)}


class TextFormatter(logging.Formatter):
    """``2026-01-01T00:00:00Z INFO logger: message key=value ...``"""

    def format(self, record: logging.LogRecord) -> str:
        ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created))
        ctx = " ".join(f"{k}={v}" for k, v in _context(record).items())
        line = f"{ts} {record.levelname} {record.name}: {record.getMessage()}"
        if ctx:
            line += " " + ctx
        if record.exc_info:
            line += " error=" + json.dumps(str(record.exc_info[1]))
        return line


class JSONFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, object] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        doc.update(_context(record))
        if record.exc_info:
            doc["error"] = str(record.exc_info[1])
        return json.dumps(doc, default=str)


def setup(fmt: str = "text", level: str | int = "INFO") -> None:
    """Configure the root logger once per process (called by each ``cli.py``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
