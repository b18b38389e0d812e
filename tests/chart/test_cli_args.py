"""Rendered container args are parsed by the real CLIs: a flag the binary does not know fails."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from typing import Any

import pytest

from controller.config import ControllerConfig, parse_config
from tests.chart.render import NAMESPACE, RUNTIME_IMAGE, VALUE_SETS, container
from webhook.cli import build_parser, config_from_args
from webhook.config import WebhookConfig

Rendered = Callable[[str], list[dict[str, Any]]]
NAMES = sorted(VALUE_SETS)


def _parse_controller(args: list[str]) -> ControllerConfig:
    assert args[0] == "controller"
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            return parse_config(args[1:], {})
    except SystemExit:
        pytest.fail(f"controller rejects the chart's args {args}:\n{stderr.getvalue()}")


def _parse_webhook(args: list[str]) -> WebhookConfig:
    assert args[0] == "webhook"
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            ns = build_parser({}).parse_args(args[1:])
    except SystemExit:
        pytest.fail(f"webhook rejects the chart's args {args}:\n{stderr.getvalue()}")
    return config_from_args(ns, {"KUBERNETES_SERVICE_HOST": "10.0.0.1"})


@pytest.mark.parametrize("name", NAMES)
def test_controller_accepts_the_chart_args(name: str, rendered: Rendered) -> None:
    cfg = _parse_controller(container(rendered(name), "controller")["args"])
    assert cfg.leader.enabled is True
    assert cfg.leader.namespace == NAMESPACE
    assert cfg.ate_api.endpoint and cfg.ate_api.token_file
    assert cfg.health_bind == ":8081" and cfg.metrics_bind == ":8080"


@pytest.mark.parametrize("name", NAMES)
def test_webhook_accepts_the_chart_args(name: str, rendered: Rendered) -> None:
    cfg = _parse_webhook(container(rendered(name), "webhook")["args"])
    assert (cfg.port, cfg.metrics_port) == (9443, 8080)
    assert cfg.crds is not None
    assert cfg.request_timeout < 10


def test_controller_values_reach_the_config(rendered: Rendered) -> None:
    cfg = _parse_controller(container(rendered("rbac-namespaces"), "controller")["args"])
    assert cfg.namespaces == ("team-a", "team-b")
    cfg = _parse_controller(container(rendered("ate-api-options"), "controller")["args"])
    assert cfg.ate_api.insecure is True
    assert cfg.ate_api.ca_file == "/etc/kagent-substrate/ate-api-ca/bundle.pem"
    assert cfg.leader.name == "my-lease"
    assert cfg.resync_period == 600.0
    assert cfg.defaults.worker_pool_name == "existing"
    assert cfg.sandbox_runtime_image == "adk@" + VALUE_SETS["digest-image"]["image"]["digest"]
    assert cfg.kagent_url == "http://kagent.platform:8083"
    assert cfg.defaults.pause_image.endswith(VALUE_SETS["digest-image"]["image"]["digest"])
    cfg = _parse_controller(container(rendered("default"), "controller")["args"])
    assert cfg.gateway_bind == "" and cfg.namespaces == ()
    assert cfg.sandbox_runtime_image == RUNTIME_IMAGE
    assert cfg.kagent_url == "http://kagent-controller.kagent:8083"


def test_webhook_values_reach_the_config(rendered: Rendered) -> None:
    cfg = _parse_webhook(container(rendered("default"), "webhook")["args"])
    assert cfg.self_signed and cfg.in_cluster
    assert cfg.default_worker_pool is None
    cfg = _parse_webhook(container(rendered("worker-pool"), "webhook")["args"])
    assert (
        cfg.default_worker_pool == "kagent-system/pool-1"
    )  # namespace/name: pinned only in that namespace
    cfg = _parse_webhook(container(rendered("cert-manager"), "webhook")["args"])
    assert not cfg.self_signed and cfg.tls_cert_file is not None


def test_an_unknown_flag_would_fail(rendered: Rendered) -> None:
    """The check above is real: a flag the binaries do not know is caught."""
    with pytest.raises(pytest.fail.Exception):
        _parse_controller(["controller", "--no-such-flag=1"])
    with pytest.raises(pytest.fail.Exception):
        _parse_webhook(["webhook", "--no-such-flag=1"])
