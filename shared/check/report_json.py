"""``check --output json``: one JSON document, the shape of SPEC §9 with a ``formatVersion``.

The shape is documented in docs/policy.md and described by the JSON Schema shipped next to this
module (``schemas/check-output.schema.json``); tests validate real output against it. Every
top-level key is always present. Additions keep ``formatVersion``; a change that removes or
re-types a field increments it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

import orjson

from shared.check.inputs import Problem
from shared.check.report import Report

FORMAT_VERSION: Final = 1
SCHEMA_PATH: Final = Path(__file__).resolve().parent / "schemas" / "check-output.schema.json"


def problem_dict(p: Problem) -> dict[str, Any]:
    """An input error: file, 0-based index and 1-based document (or null), line, message."""
    return {
        "file": p.file,
        "index": p.index,
        "document": None if p.index is None else p.index + 1,
        "line": p.line,
        "message": p.message,
    }


def render_json(report: Report) -> str:
    """Results, skipped objects, input errors and the summary."""
    doc: dict[str, Any] = {
        "formatVersion": FORMAT_VERSION,
        "results": [r.as_dict() for r in report.results],
        "skipped": [k.as_dict() for k in report.skipped],
        "errors": [problem_dict(p) for p in report.problems],
        "summary": report.summary(),
    }
    try:  # orjson: the same text as json.dumps(indent=2), several times faster
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n"
    except (TypeError, orjson.JSONEncodeError):  # e.g. a lone surrogate from the input
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
