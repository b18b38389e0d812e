"""`kagent-substrate controller`: flags/env -> ControllerConfig -> run (the composition root)."""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
from collections.abc import Sequence

from controller.config import parse_config
from shared import logs
from shared.errors import InputError


def main(argv: Sequence[str]) -> int:
    """Parse flags, set up logging, run until SIGTERM; exit 2 on bad flags."""
    try:
        config = parse_config(argv, os.environ)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else 2
    except InputError as exc:
        print(f"kagent-substrate controller: error: {exc}", file=sys.stderr)
        return 2
    logs.setup(config.log_format, config.log_level)
    app = importlib.import_module("controller.app")
    try:
        code: int = asyncio.run(app.run(config))
    except KeyboardInterrupt:
        return 130
    except InputError as exc:  # e.g. a missing or malformed kubeconfig: no traceback
        print(f"kagent-substrate controller: error: {exc}", file=sys.stderr)
        return 2
    return code
