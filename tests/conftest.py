"""Test-wide options: opt-in slow runs."""

from __future__ import annotations

import os

import pytest

from shared.nesting import allow_deep_objects
from shared.policy import crdvalidator

# The command lines raise the recursion limit for objects as deep as the API server accepts
# (shared/nesting.py); tests that call them in-process must not change it mid-test (hypothesis
# refuses that), so the test process raises it once, at import.
allow_deep_objects()

# KAGENT_POLICY_ACCELERATE=0 runs every engine built in tests (check, webhook, fuzz) on the plain
# algorithms, without the generated walk and CEL fast paths (shared/policy/accel/).
if os.environ.get("KAGENT_POLICY_ACCELERATE", "1") == "0":
    crdvalidator.ACCELERATE = False


@pytest.fixture(autouse=True)
def _deep_objects_allowed() -> None:
    """Again before every test: a library may have restored a lower limit after an earlier
    test, and `check` raising it mid-test would make hypothesis refuse the test."""
    allow_deep_objects()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", help="run long (opt-in) tests too")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="long run: opt in with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
