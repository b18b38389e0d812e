"""A `Control` over a fresh store: template ns/tmpl on pool ate-system/default with 2 workers."""

from __future__ import annotations

import pytest

from devstack.substrate.machine import Control
from devstack.substrate.state import Store, TemplateInfo


@pytest.fixture
def control() -> Control:
    c = Control(Store())
    c.put_template(TemplateInfo("ns", "tmpl", "ate-system", "default", "gs://bucket/prefix/"))
    c.set_pool_capacity("ate-system", "default", 2)
    return c
