"""Helm post-renderer: the chart's webhook configurations in ``url:`` form.

``helm install --post-renderer <python> --post-renderer-args=-m
--post-renderer-args=tests.realkube.postrender --post-renderer-args=<URL>`` (run from the repo
root). There is no cluster network to reach the webhook's Service, so each webhook's
``clientConfig.service`` becomes ``url: <URL><service.path>`` (envtest does the same); nothing
else changes and no ``caBundle`` is added: in self-signed mode the webhook patches it in itself.
Because the rewrite happens before Helm records the release, ``helm upgrade`` and ``helm
uninstall`` work on exactly what was installed.
"""

from __future__ import annotations

import sys
from typing import Any

import yaml

HOOK_KINDS = ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")


def rewrite(doc: dict[str, Any], url: str) -> dict[str, Any]:
    """``doc`` with every webhook's service reference replaced by ``url`` + its path."""
    if doc.get("kind") not in HOOK_KINDS:
        return doc
    for hook in doc.get("webhooks") or []:
        service = (hook.get("clientConfig") or {}).get("service")
        if service is not None:
            hook["clientConfig"] = {"url": url.rstrip("/") + service.get("path", "")}
    return doc


def main(argv: list[str]) -> int:
    """Read the rendered manifests on stdin, write them rewritten to stdout."""
    if len(argv) != 1 or not argv[0].startswith("https://"):
        print("usage: python -m tests.realkube.postrender https://HOST:PORT", file=sys.stderr)
        return 2
    docs = [d for d in yaml.safe_load_all(sys.stdin.read()) if d]
    sys.stdout.write(yaml.safe_dump_all([rewrite(d, argv[0]) for d in docs], sort_keys=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
