"""The OpenClaw startup script, really run (sh + node): the token it writes into openclaw.json
is the token the gateway proxy sends, whatever whitespace the Secret carried."""

from __future__ import annotations

import pytest

from controller.harness.claw import GATEWAY_TOKEN_ENV, go_json, openclaw_config, startup_script
from devstack.substrate.boot import run_startup_script


@pytest.mark.parametrize("raw", ["tok-1\n", "  tok-1 \n", "\ttok-1\r\n", "tok-1"])
async def test_script_trims_the_token_like_the_proxy(raw: str) -> None:
    config = go_json(openclaw_config("team-a", "claw", "", None))
    script = startup_script(config, inject_token=True)
    written = await run_startup_script(script, {GATEWAY_TOKEN_ENV: raw})
    proxy_sends = raw.strip()  # controller/gateway/harness.py: gateway_token()
    assert written["gateway"]["auth"] == {"mode": "token", "token": proxy_sends}
    assert proxy_sends == "tok-1"
