"""The serving TLS context (TLS >= 1.2) and its hot reload from watched files.

The server binds one `ssl.SSLContext` for its whole life. When the certificate or key files
change (cert-manager renewing a Secret volume, or our own self-signed rotation), the new pair is
first loaded into a scratch context to prove it is complete and matching, then loaded into the
live context: OpenSSL copies the certificate into each connection at handshake, so open
connections keep theirs and every new handshake gets the new one. Nothing is dropped. A
half-written pair (new certificate, old key) fails the scratch load and is retried next poll.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from pathlib import Path

from cryptography import x509

from shared.errors import InputError

log = logging.getLogger(__name__)


class CertError(InputError):
    """Certificate or key files that cannot be served; the message names the file."""


def server_context() -> ssl.SSLContext:
    """A server context that refuses anything older than TLS 1.2."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def cert_expiry(cert_pem: bytes) -> float:
    """Unix time the first certificate of a PEM chain expires."""
    return x509.load_pem_x509_certificate(cert_pem).not_valid_after_utc.timestamp()


class ReloadingCert:
    """A live SSL context fed from ``cert_file``/``key_file``; call `reload` to pick up changes."""

    def __init__(
        self,
        cert_file: Path,
        key_file: Path,
        *,
        on_load: Callable[[float], None] | None = None,
    ) -> None:
        self.cert_file = cert_file
        self.key_file = key_file
        self.context = server_context()
        self.loaded = False
        self.not_after = 0.0
        self.reloads = 0
        self._seen: tuple[bytes, bytes] | None = None
        self._on_load = on_load

    def _read(self) -> tuple[bytes, bytes]:
        try:
            return self.cert_file.read_bytes(), self.key_file.read_bytes()
        except OSError as exc:
            raise CertError(f"cannot read TLS files: {exc}") from exc

    def reload(self) -> bool:
        """Load the files if their content changed; True when a new pair is now served."""
        cert, key = self._read()
        if (cert, key) == self._seen:
            return False
        try:
            expiry = cert_expiry(cert)
            server_context().load_cert_chain(self.cert_file, self.key_file)
            self.context.load_cert_chain(self.cert_file, self.key_file)
        except (ssl.SSLError, ValueError, OSError) as exc:
            raise CertError(
                f"cannot use TLS certificate {str(self.cert_file)!r} with key "
                f"{str(self.key_file)!r}: {exc}"
            ) from exc
        first = not self.loaded
        self._seen, self.loaded, self.not_after = (cert, key), True, expiry
        if not first:
            self.reloads += 1
        if self._on_load is not None:
            self._on_load(expiry)
        log.info("serving certificate %s", "loaded" if first else "reloaded")
        return True

    async def watch(self, interval: float, stop: asyncio.Event) -> None:
        """Poll the files every ``interval`` seconds until ``stop``; a bad pair is kept off."""
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), interval)
                return
            except TimeoutError:
                pass
            try:
                self.reload()
            except CertError as exc:
                log.warning("keeping the current certificate: %s", exc)
