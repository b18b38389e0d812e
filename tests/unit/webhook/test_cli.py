"""Flags, env vars and --help of `kagent-substrate webhook`."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.errors import InputError
from webhook import cli

FLAGS = [
    "--port",
    "--metrics-port",
    "--bind-address",
    "--tls-cert-file",
    "--tls-private-key-file",
    "--crds",
    "--default-worker-pool",
    "--self-signed",
    "--log-format",
]


def test_help_lists_every_flag_with_its_env_var(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for flag in FLAGS:
        assert flag in out
        assert "KAGENT_SUBSTRATE_WEBHOOK_" + flag[2:].replace("-", "_").upper() in out


def test_env_sets_defaults_and_flags_win() -> None:
    env = {
        "KAGENT_SUBSTRATE_WEBHOOK_PORT": "9000",
        "KAGENT_SUBSTRATE_WEBHOOK_SELF_SIGNED": "true",
        "KAGENT_SUBSTRATE_WEBHOOK_DEFAULT_WORKER_POOL": "p",
        "KUBERNETES_SERVICE_HOST": "10.0.0.1",
    }
    args = cli.build_parser(env).parse_args(["--port", "9001"])
    cfg = cli.config_from_args(args, env)
    assert (cfg.port, cfg.self_signed, cfg.default_worker_pool) == (9001, True, "p")
    assert cfg.in_cluster is True and cfg.metrics_port == 8080


def test_kubeconfig_disables_in_cluster() -> None:
    env = {"KUBERNETES_SERVICE_HOST": "10.0.0.1"}
    args = cli.build_parser(env).parse_args(["--self-signed", "--kubeconfig", "/k"])
    cfg = cli.config_from_args(args, env)
    assert cfg.kubeconfig == Path("/k") and cfg.in_cluster is False


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--self-signed", "--tls-cert-file", "a", "--tls-private-key-file", "b"],
        ["--self-signed", "--log-format", "xml"],
        ["--self-signed", "--log-level", "loud"],
    ],
)
def test_bad_combinations(argv: list[str]) -> None:
    args = cli.build_parser({}).parse_args(argv)
    with pytest.raises(InputError):
        cli.config_from_args(args, {})


def test_bad_values_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli.main(["--port", "70000"]) == 2
    assert cli.main([]) == 2
    monkeypatch.setenv("KAGENT_SUBSTRATE_WEBHOOK_PORT", "nope")
    assert cli.main(["--self-signed"]) == 2
    err = capsys.readouterr().err
    assert "KAGENT_SUBSTRATE_WEBHOOK_PORT" in err and "Traceback" not in err


def test_malformed_default_worker_pool_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli.main(["--self-signed", "--default-worker-pool", "a/b/c"]) == 2
    err = capsys.readouterr().err
    assert "--default-worker-pool" in err and "[NAMESPACE/]NAME" in err
    monkeypatch.setenv("KAGENT_SUBSTRATE_WEBHOOK_DEFAULT_WORKER_POOL", "x/y/z")
    assert cli.main(["--self-signed"]) == 2
    err = capsys.readouterr().err
    assert "KAGENT_SUBSTRATE_WEBHOOK_DEFAULT_WORKER_POOL" in err and "Traceback" not in err
