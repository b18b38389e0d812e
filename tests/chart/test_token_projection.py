"""The controller's ate-api bearer token: a projected ServiceAccount token (audience, expiry, path)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.chart.render import FULLNAME, container, one

Rendered = Callable[[str], list[dict[str, Any]]]


def _token(objs: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    pod = one(objs, "Deployment", f"{FULLNAME}-controller")["spec"]["template"]["spec"]
    (vol,) = [v for v in pod["volumes"] if v["name"] == "ate-api-token"]
    c = container(objs, "controller")
    (mount,) = [m for m in c["volumeMounts"] if m["name"] == "ate-api-token"]
    assert pod["serviceAccountName"] == f"{FULLNAME}-controller"
    return vol, mount, c["args"]


def test_default_projection(rendered: Rendered) -> None:
    vol, mount, args = _token(rendered("default"))
    assert vol["projected"]["sources"] == [
        {
            "serviceAccountToken": {
                "audience": "api.ate-system.svc",
                "expirationSeconds": 3600,
                "path": "token",
            }
        }
    ]
    assert mount == {
        "name": "ate-api-token",
        "mountPath": "/var/run/secrets/tokens/ate-api",
        "readOnly": True,
    }
    assert "--substrate-ate-api-token-file=/var/run/secrets/tokens/ate-api/token" in args
    assert "--substrate-ate-api-endpoint=dns:///api.ate-system.svc:443" in args


def test_custom_projection_and_ate_api_flags(rendered: Rendered) -> None:
    objs = rendered("ate-api-options")
    vol, mount, args = _token(objs)
    assert vol["projected"]["sources"][0]["serviceAccountToken"] == {
        "audience": "custom-aud",
        "expirationSeconds": 7200,
        "path": "tok",
    }
    assert mount["mountPath"] == "/custom" and mount["readOnly"] is True
    assert "--substrate-ate-api-token-file=/custom/tok" in args
    assert "--substrate-ate-api-endpoint=dns:///ate.example:443" in args
    assert "--substrate-ate-api-ca-file=/etc/kagent-substrate/ate-api-ca/bundle.pem" in args
    assert "--substrate-ate-api-insecure=true" in args
    assert "--substrate-atenet-router-url=http://router.example:80" in args
    assert "--substrate-default-workerpool-name=existing" in args
    assert "--substrate-default-workerpool-namespace=pools" in args
    assert args[-1] == "--resync-period=10m"  # extraArgs come last and win
    pod = one(objs, "Deployment", f"{FULLNAME}-controller")["spec"]["template"]["spec"]
    (ca,) = [v for v in pod["volumes"] if v["name"] == "ate-api-ca"]
    assert ca["configMap"] == {
        "name": "ate-ca",
        "items": [{"key": "bundle.pem", "path": "bundle.pem"}],
    }
