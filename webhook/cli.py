"""`kagent-substrate webhook`: flags (each also from an env var) -> `WebhookConfig` -> serve.

This is the only webhook module that reads ``os.environ``. Exit codes: 0 after a clean
shutdown, 2 bad flags or unusable certificate/CRD files, 3 internal error. Never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from shared import logs
from shared.errors import InputError
from shared.nesting import allow_deep_objects
from shared.policy.mutation import worker_pool_problem
from shared.serving.limits import (
    DEFAULT_HEADER_TIMEOUT,
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS,
)
from webhook.config import WebhookConfig

ENV_PREFIX: Final = "KAGENT_SUBSTRATE_WEBHOOK_"
EXIT_USAGE: Final = 2
EXIT_INTERNAL: Final = 3

log = logging.getLogger(__name__)


class _BadValue(argparse.ArgumentTypeError, ValueError):
    """A flag or env value that does not parse; argparse prints its message as is."""


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise _BadValue(f"expected true or false, got {text!r}")


def _number(kind: Callable[[str], Any], text: str) -> Any:
    """``int``/``float`` of ``text`` with a message that names no Python internals."""
    try:
        return kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise _BadValue(f"expected {what}, got {text!r}") from None


def _positive(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        value = _number(kind, text)
        if value <= 0:
            raise _BadValue(f"must be > 0, got {text!r}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _port(text: str) -> int:
    value: int = _number(int, text)
    if not 0 <= value <= 65535:
        raise _BadValue(f"must be a port number 0-65535, got {text!r}")
    return value


def _worker_pool(text: str) -> str | None:
    if not text:
        return None  # an empty environment variable: no default pool
    problem = worker_pool_problem(text)
    if problem is not None:
        raise _BadValue(problem)
    return text


# (flag, dest, type, default, help); the env var is ENV_PREFIX + dest upper-cased.
_FLAGS: Final[tuple[tuple[str, str, Callable[[str], Any], Any, str], ...]] = (
    ("--port", "port", _port, 9443, "HTTPS port of /validate and /mutate (0: a free port)"),
    ("--metrics-port", "metrics_port", _port, 8080, "plain-HTTP port of /healthz, /readyz, /metrics"),
    ("--bind-address", "bind_address", str, "0.0.0.0", "address both ports bind"),
    ("--tls-cert-file", "tls_cert_file", Path, None, "serving certificate (PEM), watched and reloaded"),
    ("--tls-private-key-file", "tls_private_key_file", Path, None, "its private key (PEM)"),
    ("--crds", "crds", Path, None, "folder of CRD YAML the rules come from (default: built in)"),
    ("--default-worker-pool", "default_worker_pool", _worker_pool, None, "[NAMESPACE/]NAME of the WorkerPool pinned into substrate objects that name none (only objects in that namespace when one is given)"),
    ("--self-signed", "self_signed", _bool, False, "generate and rotate a CA and serving certificate; patch caBundle"),
    ("--cert-dir", "cert_dir", Path, None, "self-signed: folder for the CA and certificate (default: a temp folder)"),
    ("--service-name", "service_name", str, "kagent-substrate-webhook", "self-signed: Service whose DNS names the certificate covers"),
    ("--service-namespace", "service_namespace", str, "kagent-system", "self-signed: namespace of that Service"),
    ("--extra-host", "extra_hosts", str, None, "self-signed: more DNS names/IPs, comma-separated"),
    ("--validating-webhook-configuration", "validating_webhook_configuration", str, "kagent-substrate", "self-signed: ValidatingWebhookConfiguration to patch"),
    ("--mutating-webhook-configuration", "mutating_webhook_configuration", str, "kagent-substrate", "self-signed: MutatingWebhookConfiguration to patch"),
    ("--kubeconfig", "kubeconfig", Path, None, "self-signed: kubeconfig for caBundle patching (default: in-cluster when in a pod, else none: not patched)"),
    ("--request-timeout", "request_timeout", _positive(float), 8.0, "per-request deadline in seconds; keep it below the webhooks' timeoutSeconds"),
    ("--cert-poll-interval", "cert_poll_interval", _positive(float), 2.0, "seconds between checks of the certificate files"),
    ("--shutdown-delay", "shutdown_delay", lambda t: _number(float, t), 0.0, "seconds to keep serving (not ready) after SIGTERM"),
    ("--shutdown-timeout", "shutdown_timeout", _positive(float), 15.0, "seconds in-flight reviews get to finish after SIGTERM"),
    ("--header-timeout", "header_timeout", _positive(float), DEFAULT_HEADER_TIMEOUT, "seconds a connection gets from accept to complete its first request's headers (TLS handshake included)"),
    ("--idle-timeout", "idle_timeout", _positive(float), DEFAULT_IDLE_TIMEOUT, "seconds a kept-alive connection may wait for its next request"),
    ("--max-connections", "max_connections", _positive(int), DEFAULT_MAX_CONNECTIONS, "open connections per port; at the cap the oldest not yet sending a request is closed"),
    ("--log-format", "log_format", str, "text", "text or json"),
    ("--log-level", "log_level", str, "INFO", "DEBUG, INFO, WARNING or ERROR"),
    ("--workers", "workers", _positive(int), 1, "processes sharing the HTTPS port (SO_REUSEPORT); the first serves health and metrics"),
)  # fmt: skip


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        self.print_usage(sys.stderr)
        print(f"kagent-substrate webhook: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    """The `webhook` parser; defaults come from ``env`` where set."""
    p = _Parser(
        prog="kagent-substrate webhook",
        description=(
            "Admission webhook for AgentHarness and SandboxAgent: HTTPS POST /validate and "
            "/mutate (AdmissionReview v1), plain-HTTP /healthz, /readyz, /metrics. Prints "
            "'READY https://HOST:PORT metrics=http://HOST:PORT' once serving. Every flag can "
            f"also be set with an environment variable {ENV_PREFIX}<FLAG>."
        ),
    )
    for flag, dest, kind, default, text in _FLAGS:
        var = ENV_PREFIX + dest.upper()
        value = default
        if var in env:
            try:
                value = kind(env[var])
            except ValueError as exc:
                p.error(f"{var}: {exc}")
        shown = "" if default is None else f", default {default}"
        help_text = f"{text} (env {var}{shown})"
        if kind is _bool:
            p.add_argument(
                flag,
                dest=dest,
                action=argparse.BooleanOptionalAction,
                default=value,
                help=help_text,
            )
        else:
            p.add_argument(flag, dest=dest, type=kind, default=value, help=help_text)
    return p


def config_from_args(args: argparse.Namespace, env: Mapping[str, str]) -> WebhookConfig:
    """Check flag combinations and build the config."""
    if args.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise InputError(
            f"--log-level must be DEBUG, INFO, WARNING or ERROR, got {args.log_level!r}"
        )
    if args.log_format not in ("text", "json"):
        raise InputError(f"--log-format must be text or json, got {args.log_format!r}")
    if args.self_signed and (args.tls_cert_file or args.tls_private_key_file):
        raise InputError(
            "--self-signed cannot be combined with --tls-cert-file/--tls-private-key-file"
        )
    if not args.self_signed and not (args.tls_cert_file and args.tls_private_key_file):
        raise InputError(
            "give --tls-cert-file and --tls-private-key-file (mounted certificate), or --self-signed"
        )
    if args.workers > 1 and args.self_signed:
        raise InputError(
            "--workers > 1 needs a mounted certificate (--tls-cert-file/--tls-private-key-file, "
            "e.g. from cert-manager): in --self-signed mode every process would mint its own CA"
        )
    extra = tuple(h.strip() for h in (args.extra_hosts or "").split(",") if h.strip())
    in_cluster = args.kubeconfig is None and bool(env.get("KUBERNETES_SERVICE_HOST"))
    return WebhookConfig(
        port=args.port,
        metrics_port=args.metrics_port,
        bind_address=args.bind_address,
        tls_cert_file=args.tls_cert_file,
        tls_private_key_file=args.tls_private_key_file,
        crds=args.crds,
        default_worker_pool=args.default_worker_pool or None,
        self_signed=args.self_signed,
        cert_dir=args.cert_dir,
        service_name=args.service_name,
        service_namespace=args.service_namespace,
        extra_hosts=extra,
        validating_webhook_configuration=args.validating_webhook_configuration,
        mutating_webhook_configuration=args.mutating_webhook_configuration,
        kubeconfig=args.kubeconfig,
        in_cluster=in_cluster,
        request_timeout=args.request_timeout,
        cert_poll_interval=args.cert_poll_interval,
        shutdown_delay=args.shutdown_delay,
        shutdown_timeout=args.shutdown_timeout,
        header_timeout=args.header_timeout,
        idle_timeout=args.idle_timeout,
        max_connections=args.max_connections,
        log_format=args.log_format,
        log_level=args.log_level.upper(),
        workers=args.workers,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Parse flags and env, serve until SIGTERM; return the exit code."""
    env = dict(os.environ)
    try:
        args = build_parser(env).parse_args(list(sys.argv[1:] if argv is None else argv))
        config = config_from_args(args, env)
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else EXIT_USAGE
    except InputError as exc:
        print(f"kagent-substrate webhook: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    logs.setup(config.log_format, config.log_level)
    allow_deep_objects()  # objects as deep as the API server's decoder accepts (10,000 levels)
    from webhook.server import serve  # aiohttp and the engine load only when serving
    from webhook.workers import run_workers

    try:
        if config.workers > 1:
            return run_workers(config)
        return asyncio.run(serve(config))
    except InputError as exc:
        log.error("%s", exc)
        return EXIT_USAGE
    except OSError as exc:
        log.error("cannot serve: %s", exc)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 0
    except Exception as exc:
        log.error("webhook stopped by an internal error: %s", type(exc).__name__)
        return EXIT_INTERNAL
