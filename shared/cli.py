"""The `kagent-substrate` console script: a thin dispatcher.

Each subcommand lives in its own module exposing ``main(argv) -> int``; the module is
imported by name only when chosen, so `check` never pays for aiohttp or grpc imports and
the layers stay clean (this file never imports a subcommand at module level).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

#: subcommand -> (module path, one-line description)
COMMANDS: dict[str, tuple[str, str]] = {
    "check": (
        "shared.check.cli",
        "offline policy check: the exact admission verdict for manifests",
    ),
    "test": (
        "shared.check.suite_cli",
        "declarative admission tests: manifests with their expected verdicts",
    ),
    "webhook": ("webhook.cli", "HTTPS admission webhook (POST /validate, POST /mutate)"),
    "controller": ("controller.cli", "reconcile AgentHarness/SandboxAgent onto Agent Substrate"),
    "devstack": ("devstack.cli", "local stand-ins: Kubernetes API, ate-api, router"),
    "demo": ("devstack.demo", "run the whole product locally on the embedded default"),
    "export-vap": (
        "webhook.vap",
        "write ValidatingAdmissionPolicies for the CEL-expressible rules",
    ),
}

EXIT_USAGE = 2
DISTRIBUTION = "kagent-substrate"


def version() -> str:
    """The installed distribution's version (``unknown`` when run from a bare source tree)."""
    import importlib.metadata  # here: 30 ms that every other command would pay at start

    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: kagent-substrate [--version] <command> [options]", "", "commands:"]
    lines += [f"  {name:<{width}}  {desc}" for name, (_, desc) in COMMANDS.items()]
    lines += [f"  {'version':<{width}}  print the version and exit"]
    lines += [f"  {'completion':<{width}}  print a bash or zsh completion script"]
    lines += ["", "Run 'kagent-substrate <command> --help' for a command's options."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to the chosen subcommand and return its exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(_usage())
        return 0 if args else EXIT_USAGE
    name, rest = args[0], args[1:]
    if name in {"--version", "version"}:
        print(f"{DISTRIBUTION} {version()}")
        return 0
    if name == "completion":
        from shared import completion

        return completion.main(rest, list(COMMANDS))
    if name not in COMMANDS:
        print(f"kagent-substrate: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return EXIT_USAGE
    module_path = COMMANDS[name][0]
    try:
        module = importlib.import_module(module_path)
    except ModuleNotFoundError as exc:
        if exc.name and module_path.startswith(exc.name):
            print(f"kagent-substrate: {name!r} is not available in this build", file=sys.stderr)
            return EXIT_USAGE
        raise
    code: int = module.main(rest)
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
