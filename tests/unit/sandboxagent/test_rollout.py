"""Pure parts of the template rollout: when to recreate, which golden actors to retire."""

from __future__ import annotations

from controller.sandboxagent.rollout import RETIRED_GOLDEN, retired_ids, spec_changed


def test_spec_changed_only_on_spec() -> None:
    existing = {"metadata": {"labels": {"x": "1"}}, "spec": {"containers": [{"env": ["a"]}]}}
    assert not spec_changed(existing, {"metadata": {}, "spec": {"containers": [{"env": ["a"]}]}})
    assert spec_changed(existing, {"metadata": {}, "spec": {"containers": [{"env": ["b"]}]}})


def test_retired_ids_parse_trim_dedupe_sort() -> None:
    assert retired_ids({"metadata": {}}) == []
    agent = {"metadata": {"annotations": {RETIRED_GOLDEN: " b, a,,b "}}}
    assert retired_ids(agent) == ["a", "b"]
