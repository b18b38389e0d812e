"""Mounted certificate rotation: files replaced while clients keep calling; nothing fails."""

from __future__ import annotations

import asyncio
import os
import ssl
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from shared.certs import KeyPair, make_ca, make_serving_cert
from shared.policy.engine import PolicyEngine
from tests.integration.webhook.conftest import (
    admission_review,
    base_config,
    client_context,
    start_webhook,
    wait_for,
)
from tests.integration.webhook.test_hardening import harness


async def served_cert(url: str, ctx: ssl.SSLContext) -> bytes:
    """DER of the certificate a fresh TLS handshake gets."""
    parts = urlsplit(url)
    _reader, writer = await asyncio.wait_for(
        asyncio.open_connection(parts.hostname, parts.port, ssl=ctx), 5
    )
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True)
        assert der is not None
        return bytes(der)
    finally:
        writer.close()
        await writer.wait_closed()


def der(pair: KeyPair) -> bytes:
    cert = x509.load_pem_x509_certificate(pair.cert_pem)
    return cert.public_bytes(serialization.Encoding.DER)


def mount(folder: Path, pair: KeyPair, generation: int) -> None:
    """Replace the files the way the kubelet updates a Secret volume (atomic symlink swap)."""
    data = folder / f"..data-{generation}"
    data.mkdir()
    pair.write(data / "tls.crt", data / "tls.key")
    link = folder / f"..data-tmp-{generation}"
    link.symlink_to(data.name)
    os.replace(link, folder / "..data")


async def test_rotation_under_load(tmp_path: Path, ca: KeyPair, engine: PolicyEngine) -> None:
    folder = tmp_path / "mount"
    folder.mkdir()
    first = make_serving_cert(ca, ["127.0.0.1"])
    mount(folder, first, 1)
    (folder / "tls.crt").symlink_to("..data/tls.crt")
    (folder / "tls.key").symlink_to("..data/tls.key")
    new_ca = make_ca("rotated-ca")
    second = make_serving_cert(new_ca, ["127.0.0.1"])
    cfg = base_config(
        tmp_path, ca, tls_cert_file=folder / "tls.crt", tls_private_key_file=folder / "tls.key"
    )
    server = await start_webhook(cfg, engine)
    trust_both = ssl.create_default_context(cadata=(ca.cert_pem + new_ca.cert_pem).decode())
    assert await served_cert(server.url, trust_both) == der(first)

    stop = asyncio.Event()
    results: list[object] = []

    async def client(fresh_connections: bool) -> None:
        connector = aiohttp.TCPConnector(force_close=fresh_connections)
        async with aiohttp.ClientSession(connector=connector) as session:
            while not stop.is_set():
                try:
                    async with session.post(
                        server.url + "/validate",
                        json=admission_review(harness()),
                        ssl=trust_both,
                        timeout=aiohttp.ClientTimeout(total=5),
                    ) as resp:
                        doc = await resp.json()
                        results.append(resp.status == 200 and doc["response"]["allowed"])
                except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                    results.append(exc)

    tasks = [asyncio.create_task(client(fresh)) for fresh in (True, True, False)]
    try:
        await wait_for(lambda: len(results) >= 20, what="requests before rotation")
        mount(folder, second, 2)
        await wait_for(lambda: server.cert.reloads >= 1, what="certificate reload")
        seen = len(results)
        await wait_for(lambda: len(results) >= seen + 30, what="requests after rotation")
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        served = await served_cert(server.url, trust_both)
        await server.stop()
    failures = [r for r in results if r is not True]
    assert not failures, failures[:5]
    assert served == der(second)


async def test_bad_pair_keeps_the_current_cert(
    tmp_path: Path, ca: KeyPair, engine: PolicyEngine, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = base_config(tmp_path, ca)
    server = await start_webhook(cfg, engine)
    try:
        assert cfg.tls_cert_file is not None
        before = await served_cert(server.url, client_context(ca))
        other = make_serving_cert(ca, ["127.0.0.1"])
        cfg.tls_cert_file.write_bytes(other.cert_pem)  # new cert, old key: a mismatched pair
        await wait_for(lambda: "keeping the current certificate" in caplog.text, what="warning")
        assert await served_cert(server.url, client_context(ca)) == before
        assert server.cert.loaded
        assert cfg.tls_private_key_file is not None
        cfg.tls_private_key_file.write_bytes(other.key_pem)  # the key arrives: now it switches
        await wait_for(lambda: server.cert.reloads == 1, what="reload")
        assert await served_cert(server.url, client_context(ca)) == der(other)
    finally:
        await server.stop()
