"""``--self-signed``: a CA and a serving certificate on disk, renewed before they expire.

Files live in one folder (reused on restart): ``ca.crt``/``ca.key``, ``tls.crt``/``tls.key`` and,
after a CA renewal, ``ca-previous.crt``. A renewed CA is published in the caBundle together with
the previous one (still valid) *before* a serving certificate signed by it is served, so the API
server trusts both the old and the new serving certificate during the switch. Every write is a
rename of a complete temporary file; the key files are created with mode 0600.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from shared.certs import KeyPair, make_ca, make_serving_cert


def _write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load(cert_file: Path, key_file: Path) -> KeyPair | None:
    try:
        pair = KeyPair(cert_file.read_bytes(), key_file.read_bytes())
        x509.load_pem_x509_certificate(pair.cert_pem)
    except (OSError, ValueError):
        return None
    return pair


def _cert(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


class SelfSignedIssuer:
    """Keeps a CA and a serving certificate for ``hosts`` fresh in ``cert_dir``."""

    def __init__(
        self,
        cert_dir: Path,
        hosts: list[str],
        *,
        ca_days: int = 365,
        serving_days: int = 90,
        rotate_fraction: float = 1 / 3,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.cert_dir = cert_dir
        self.hosts = hosts
        self.ca_days = ca_days
        self.serving_days = serving_days
        self.rotate_fraction = rotate_fraction
        self._now = now
        self.ca_file = cert_dir / "ca.crt"
        self.ca_key_file = cert_dir / "ca.key"
        self.previous_ca_file = cert_dir / "ca-previous.crt"
        self.cert_file = cert_dir / "tls.crt"
        self.key_file = cert_dir / "tls.key"

    def _due(self, cert: x509.Certificate) -> bool:
        """True when less than ``rotate_fraction`` of the certificate's lifetime is left."""
        start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
        return end - self._now() < (end - start) * self.rotate_fraction

    def _issuers(self) -> list[x509.Certificate]:
        issuers = []
        for path in (self.ca_file, self.previous_ca_file):
            try:
                issuers.append(_cert(path.read_bytes()))
            except (OSError, ValueError):
                continue
        return issuers

    def _serving_ok(self) -> bool:
        pair = _load(self.cert_file, self.key_file)
        if pair is None:
            return False
        cert = _cert(pair.cert_pem)
        try:
            names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except x509.ExtensionNotFound:
            return False
        if not set(self.hosts) <= {str(n.value) for n in names} or self._due(cert):
            return False
        for issuer in self._issuers():
            try:
                cert.verify_directly_issued_by(issuer)
            except (ValueError, TypeError, InvalidSignature):
                continue
            return True
        return False

    def renew_ca(self) -> bool:
        """Create the CA, or renew it when due (keeping the old one as previous); True if new."""
        self.cert_dir.mkdir(parents=True, exist_ok=True)
        ca = _load(self.ca_file, self.ca_key_file)
        if ca is not None and not self._due(_cert(ca.cert_pem)):
            return False
        if ca is not None:
            _write_atomic(self.previous_ca_file, ca.cert_pem)
        ca = make_ca("kagent-substrate-webhook-ca", days=self.ca_days)
        _write_atomic(self.ca_key_file, ca.key_pem, 0o600)
        _write_atomic(self.ca_file, ca.cert_pem)
        return True

    def renew_serving(self) -> bool:
        """Issue a serving certificate from the current CA when missing or due; True if new.

        Call only once the current CA is published (a serving certificate signed by a CA the
        API server does not trust yet would fail every call).
        """
        if self._serving_ok():
            return False
        ca = _load(self.ca_file, self.ca_key_file)
        if ca is None:
            raise ValueError(f"no CA in {str(self.cert_dir)!r}; call renew_ca first")
        serving = make_serving_cert(ca, self.hosts, days=self.serving_days)
        _write_atomic(self.key_file, serving.key_pem, 0o600)
        _write_atomic(self.cert_file, serving.cert_pem)
        return True

    def ca_bundle(self) -> bytes:
        """PEM CA bundle to publish: the current CA, plus the previous one while still valid."""
        bundle = self.ca_file.read_bytes()
        try:
            previous = self.previous_ca_file.read_bytes()
            if _cert(previous).not_valid_after_utc > self._now():
                bundle += previous
        except (OSError, ValueError):
            pass
        return bundle
