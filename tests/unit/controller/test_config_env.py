"""Controller settings from the environment use the KAGENT_SUBSTRATE_CONTROLLER_ prefix
(issue 16 item 8): a stray NAMESPACE or WORKERS in the pod's environment changes nothing."""

from __future__ import annotations

import pytest

from controller.config import parse_config
from shared.errors import InputError


def test_unprefixed_variables_are_ignored() -> None:
    config = parse_config([], {"NAMESPACE": "team-a", "WORKERS": "oops", "LOG_LEVEL": "DEBUG"})
    assert config.namespaces == ()  # every namespace, as without the variable
    assert config.workers >= 1 and config.log_level == "INFO"


def test_prefixed_variables_set_flags() -> None:
    config = parse_config(
        [],
        {
            "KAGENT_SUBSTRATE_CONTROLLER_NAMESPACE": "team-a,team-b",
            "KAGENT_SUBSTRATE_CONTROLLER_WORKERS": "3",
        },
    )
    assert config.namespaces == ("team-a", "team-b") and config.workers == 3


def test_bad_value_names_the_flag() -> None:
    with pytest.raises(InputError, match="--workers: expected a positive integer"):
        parse_config([], {"KAGENT_SUBSTRATE_CONTROLLER_WORKERS": "many"})
