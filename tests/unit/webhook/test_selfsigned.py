"""Self-signed issuer: creation, reuse, renewal when due, previous CA kept in the bundle."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

from cryptography import x509

from webhook.selfsigned import SelfSignedIssuer


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def test_create_reuse_and_renew(tmp_path: Path) -> None:
    clock = Clock()
    issuer = SelfSignedIssuer(tmp_path, ["svc.ns.svc"], ca_days=30, serving_days=9, now=clock)
    assert issuer.renew_ca() is True and issuer.renew_serving() is True
    assert stat.S_IMODE(issuer.key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(issuer.ca_key_file.stat().st_mode) == 0o600
    assert issuer.renew_ca() is False and issuer.renew_serving() is False
    # A second issuer on the same folder reuses everything (restart).
    again = SelfSignedIssuer(tmp_path, ["svc.ns.svc"], ca_days=30, serving_days=9, now=clock)
    assert again.renew_ca() is False and again.renew_serving() is False
    # 7 of 9 days later the serving cert is due (less than a third left); the CA is not.
    first_cert = issuer.cert_file.read_bytes()
    clock.now += dt.timedelta(days=7)
    assert issuer.renew_ca() is False and issuer.renew_serving() is True
    assert issuer.cert_file.read_bytes() != first_cert


def test_ca_renewal_keeps_previous_in_bundle_and_old_cert_valid(tmp_path: Path) -> None:
    clock = Clock()
    issuer = SelfSignedIssuer(tmp_path, ["a"], ca_days=30, serving_days=30, now=clock)
    issuer.renew_ca()
    issuer.renew_serving()
    old_ca = issuer.ca_file.read_bytes()
    clock.now += dt.timedelta(days=21)
    assert issuer.renew_ca() is True
    bundle = issuer.ca_bundle()
    assert bundle.startswith(issuer.ca_file.read_bytes()) and bundle.endswith(old_ca)
    # The serving cert of day 0 is due too (9 of 30 days left): reissued from the new CA.
    assert issuer.renew_serving() is True
    cert = x509.load_pem_x509_certificate(issuer.cert_file.read_bytes())
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(issuer.ca_file.read_bytes()))
    # After the old CA expired it leaves the bundle.
    clock.now += dt.timedelta(days=10)
    assert old_ca not in issuer.ca_bundle()


def test_new_hosts_reissue(tmp_path: Path) -> None:
    SelfSignedIssuer(tmp_path, ["a"]).renew_ca()
    SelfSignedIssuer(tmp_path, ["a"]).renew_serving()
    assert SelfSignedIssuer(tmp_path, ["a", "b"]).renew_serving() is True
