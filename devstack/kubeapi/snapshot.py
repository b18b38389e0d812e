"""On-disk snapshot of the store, so a restarted stand-in keeps its objects."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from devstack.kubeapi.storage import Store

log = logging.getLogger(__name__)


_SAVING = threading.Lock()
"""Saves run one at a time: a periodic save still in its thread when shutdown saves again
must not race it (they shared one temporary file, and the second rename found none)."""


def save(path: Path, data: dict[str, Any]) -> None:
    """Write a snapshot atomically (mode 0600: it may hold Secret data)."""
    with _SAVING:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as fh:  # mkstemp creates it 0600
                json.dump(data, fh, separators=(",", ":"))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def load(path: Path) -> dict[str, Any] | None:
    """Read a snapshot, or None when there is none."""
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    return data


async def flush(store: Store, path: Path) -> None:
    """Save the store if it changed since the last save."""
    if not store.dirty:
        return
    store.dirty = False
    await asyncio.to_thread(save, path, store.dump())


async def keep_saved(store: Store, path: Path, interval: float) -> None:
    """Save every ``interval`` seconds while objects change (until cancelled)."""
    while True:
        await asyncio.sleep(interval)
        try:
            await flush(store, path)
        except OSError as exc:
            log.warning("snapshot %s not written: %s", path, exc)
