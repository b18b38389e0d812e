"""Chart tests need the real helm: fail (not skip) with how to get it when it cannot be installed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.chart.render import VALUE_SETS, HelmMissing, helm_binary, render


@pytest.fixture(scope="session", autouse=True)
def helm_path() -> Path:
    """The project's helm (.tools/helm), installed by `make .tools/helm` when missing."""
    try:
        return helm_binary()
    except HelmMissing as exc:
        pytest.fail(str(exc), pytrace=False)


_CACHE: dict[str, list[dict[str, Any]]] = {}


@pytest.fixture(scope="session")
def rendered() -> Callable[[str], list[dict[str, Any]]]:
    """Rendered objects of a named value set (render.VALUE_SETS), each rendered once."""

    def get(name: str) -> list[dict[str, Any]]:
        if name not in _CACHE:
            _CACHE[name] = render(VALUE_SETS[name])
        return _CACHE[name]

    return get
