"""Channel credentials: TLS verified against a CA by default; ``insecure`` = TLS without verification.

grpcio has no "skip verification" switch, so insecure mode fetches the certificate the server
presents (one unverified handshake, within the dial timeout) and trusts exactly that
certificate for the channel, checking it against the first name it carries. The traffic
stays encrypted; only the identity check is given up, as with the reference's
``InsecureSkipVerify``.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass

import grpc
from cryptography import x509
from cryptography.x509.oid import NameOID

from shared.ateapi.config import AteApiConfig
from shared.ateapi.errors import ConfigError, TlsError, Unavailable


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a secure channel needs: credentials plus channel options."""

    credentials: grpc.ChannelCredentials
    options: tuple[tuple[str, str], ...]


def split_target(endpoint: str) -> tuple[str, int]:
    """Host and port of a gRPC target (``dns:///h:p``, ``dns://auth/h:p``, ``ipv4:h:p``, ``h:p``)."""
    rest = endpoint.strip()
    if rest.startswith("dns:"):
        rest = rest[4:]
        if rest.startswith("//"):
            rest = rest[2:].split("/", 1)[1] if "/" in rest[2:] else ""
    elif rest.startswith(("ipv4:", "ipv6:")):
        rest = rest[5:].split(",", 1)[0]
    if rest.startswith("["):
        host, _, tail = rest[1:].partition("]")
        port = tail.lstrip(":")
    elif rest.count(":") == 1:
        host, _, port = rest.partition(":")
    else:
        host, port = rest, ""
    if not host:
        raise ConfigError(f'endpoint "{endpoint}" has no host: use e.g. dns:///host:443')
    try:
        return host, int(port) if port else 443
    except ValueError:
        raise ConfigError(f'endpoint "{endpoint}" has a bad port "{port}"') from None


def _first_name(cert_pem: bytes) -> str:
    cert = x509.load_pem_x509_certificate(cert_pem)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        san = None
    if san is not None:
        dns = san.get_values_for_type(x509.DNSName)
        if dns:
            return str(dns[0])
        ips = san.get_values_for_type(x509.IPAddress)
        if ips:
            return str(ips[0])
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(cns[0].value) if cns else ""


async def fetch_server_cert(endpoint: str, timeout: float) -> bytes:
    """The PEM leaf certificate the server presents, read without verifying it."""
    host, port = split_target(endpoint)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["h2"])
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(host, port, ssl=ctx, server_hostname=host)
    except TimeoutError:
        raise Unavailable(
            "", "UNAVAILABLE", f'dial ate-api "{endpoint}": no TLS handshake within {timeout:g}s'
        ) from None
    except (OSError, ssl.SSLError) as exc:
        raise Unavailable("", "UNAVAILABLE", f'dial ate-api "{endpoint}": {exc}') from None
    try:
        sslobj = writer.get_extra_info("ssl_object")
        der = sslobj.getpeercert(binary_form=True) if sslobj is not None else None
    finally:
        writer.close()
    if not der:
        raise TlsError("", "UNAVAILABLE", f'dial ate-api "{endpoint}": server sent no certificate')
    return ssl.DER_cert_to_PEM_cert(der).encode()


async def build_credentials(config: AteApiConfig) -> Credentials:
    """Credentials and options for ``config`` (reads the CA file or fetches the server cert)."""
    options: list[tuple[str, str]] = []
    if config.insecure:
        pem = await fetch_server_cert(config.endpoint, config.dial_timeout)
        name = config.tls_server_name or _first_name(pem)
        if name:
            options.append(("grpc.ssl_target_name_override", name))
        return Credentials(grpc.ssl_channel_credentials(root_certificates=pem), tuple(options))
    roots: bytes | None = None
    if config.ca_file is not None:
        try:
            roots = config.ca_file.read_bytes()
        except OSError as exc:
            raise ConfigError(
                f'ca_file "{config.ca_file}" cannot be read: {exc.strerror or exc}; '
                "point it at the PEM CA bundle of ate-api's certificate"
            ) from None
        if b"-----BEGIN CERTIFICATE-----" not in roots:
            raise ConfigError(f'ca_file "{config.ca_file}" holds no PEM certificate')
    if config.tls_server_name:
        options.append(("grpc.ssl_target_name_override", config.tls_server_name))
    return Credentials(grpc.ssl_channel_credentials(root_certificates=roots), tuple(options))
