"""Config validation, backoff shape, target parsing, token reading."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.ateapi.config import DEFAULT_ENDPOINT, AteApiConfig, RetryPolicy
from shared.ateapi.errors import ConfigError, TokenFileError
from shared.ateapi.tls import split_target
from shared.ateapi.token import read_token
from shared.errors import InputError


def test_defaults() -> None:
    config = AteApiConfig()
    assert config.endpoint == DEFAULT_ENDPOINT == "dns:///api.ate-system.svc:443"
    assert (config.dial_timeout, config.call_timeout, config.insecure) == (10.0, 30.0, False)
    config.validate()


@pytest.mark.parametrize(
    ("overrides", "text"),
    [
        ({"endpoint": ""}, "endpoint is required"),
        ({"dial_timeout": 0}, "dial_timeout must be a positive number"),
        ({"call_timeout": float("inf")}, "call_timeout must be a positive number"),
        ({"retry": RetryPolicy(max_attempts=0)}, "retry.max_attempts must be at least 1"),
        ({"retry": RetryPolicy(jitter=2)}, "retry.jitter must be within 0..1"),
        ({"ca_file": Path("x"), "insecure": True}, "ca_file and insecure exclude each other"),
    ],
)
def test_invalid_config(overrides: dict[str, object], text: str) -> None:
    config = AteApiConfig(**overrides)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=text) as info:
        config.validate()
    assert isinstance(info.value, InputError)


def test_backoff_is_capped_exponential_with_jitter() -> None:
    policy = RetryPolicy(initial_backoff=0.1, max_backoff=1.0, multiplier=2.0, jitter=0.2)
    assert [policy.backoff(n, 0.5) for n in (1, 2, 3, 4, 5, 9)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    assert policy.backoff(1, 0.0) == pytest.approx(0.08)
    assert policy.backoff(9, 0.999999) == pytest.approx(1.2, rel=1e-4)


@pytest.mark.parametrize(
    ("target", "host", "port"),
    [
        ("dns:///api.ate-system.svc:443", "api.ate-system.svc", 443),
        ("dns://8.8.8.8/api.example:8443", "api.example", 8443),
        ("127.0.0.1:5000", "127.0.0.1", 5000),
        ("ipv4:10.0.0.1:81", "10.0.0.1", 81),
        ("[::1]:9000", "::1", 9000),
        ("api.ate-system.svc", "api.ate-system.svc", 443),
    ],
)
def test_split_target(target: str, host: str, port: int) -> None:
    assert split_target(target) == (host, port)


def test_split_target_rejects_garbage() -> None:
    with pytest.raises(ConfigError, match="bad port"):
        split_target("host:http")


def test_token_is_trimmed_and_secret(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("\u00a0 test-token\n")
    token = read_token(path)
    assert token.reveal() == "test-token" and "test-token" not in repr(token) + str(token)
    path.write_text(" \n\t")
    with pytest.raises(TokenFileError, match=f'bearer token file "{path}" is empty'):
        read_token(path)
