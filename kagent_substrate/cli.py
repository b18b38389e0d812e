"""The `kagent-substrate` console script: a thin dispatcher at the top of the package graph.

Each subcommand lives in its own module exposing ``main(argv) -> int``. The loaders below
import it with a plain ``import`` inside a function, so it is imported only when chosen (`check`
never pays for aiohttp or grpc) and import-linter still sees every edge (`make lint`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

Main = Callable[[list[str]], int]


def _check() -> Main:
    from shared.check import cli

    return cli.main


def _test() -> Main:
    from shared.check import suite_cli

    return suite_cli.main


def _webhook() -> Main:
    from webhook import cli

    return cli.main


def _export_vap() -> Main:
    from webhook import vap

    return vap.main


def _controller() -> Main:
    from controller import cli

    return cli.main


def _devstack() -> Main:
    from devstack import cli

    return cli.main


def _demo() -> Main:
    from devstack import demo

    return demo.main


#: subcommand -> (loader of its ``main``, the module it loads, one-line description)
COMMANDS: dict[str, tuple[Callable[[], Main], str, str]] = {
    "check": (
        _check,
        "shared.check.cli",
        "offline policy check: the exact admission verdict for manifests",
    ),
    "test": (
        _test,
        "shared.check.suite_cli",
        "declarative admission tests: manifests with their expected verdicts",
    ),
    "webhook": (_webhook, "webhook.cli", "HTTPS admission webhook (POST /validate, POST /mutate)"),
    "controller": (
        _controller,
        "controller.cli",
        "reconcile AgentHarness/SandboxAgent onto Agent Substrate",
    ),
    "devstack": (_devstack, "devstack.cli", "local stand-ins: Kubernetes API, ate-api, router"),
    "demo": (_demo, "devstack.demo", "run the whole product locally on the embedded default"),
    "export-vap": (
        _export_vap,
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
    lines += [f"  {name:<{width}}  {desc}" for name, (_, _, desc) in COMMANDS.items()]
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
    load, module_path, _ = COMMANDS[name]
    try:
        command = load()
    except ModuleNotFoundError as exc:
        if exc.name and module_path.startswith(exc.name):
            print(f"kagent-substrate: {name!r} is not available in this build", file=sys.stderr)
            return EXIT_USAGE
        raise
    return command(rest)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
