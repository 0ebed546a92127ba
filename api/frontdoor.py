"""The stack's front door: nginx's configuration and the TLS certificate it serves.

OpenWhisk's path starts at nginx, which terminates TLS and forwards to the
controllers (``ansible/roles/nginx/templates/nginx.conf.j2`` in
apache/openwhisk). Here nginx terminates TLS on the TLS port and forwards to
the API instances over keep-alive connections; ``render`` decides the whole
configuration (no I/O), ``ensure_certificate`` makes the stack's own local CA
and server certificate on first start, and ``main`` (run by
``scripts/nginx.sh``) writes both under the state folder.

The limits sit a margin above the API's own (the largest body,
``constants.REQUEST_MAX_BYTES``; the request line and header sizes,
``api/server.py``), so a request just over one reaches the API and gets its
OpenWhisk error body (413, 414, 431) rather than nginx's HTML page, as
OpenWhisk's nginx allows more than its controller. The read time-out is longer
than the longest answer (an action's longest run, plus a grace) and than the
event streams' heartbeat interval. The event streams (``.../events``) pass
unbuffered, so a server-sent event reaches the client when the API writes it.
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from api.server import HEADER_MAX_BYTES, URI_MAX_BYTES
from streams import constants

# Idle time nginx allows between two reads from the API, in seconds: longer
# than any answer the API holds back (an action's longest run plus a grace)
# and than the heartbeat of an event stream.
PROXY_READ_TIMEOUT_S = constants.TIMEOUT_MAX_MS // 1000 + 30
# How far above the API's limits nginx's own sit (see the module's docstring).
BODY_MARGIN_BYTES = 1024 * 1024
HEADER_MARGIN = 2
# Idle keep-alive connections nginx keeps to each upstream, per worker.
UPSTREAM_KEEPALIVE = 32
# The stack's own certificate: its validity, and how close to its end a new
# one is made at start.
CERTIFICATE_DAYS = 825
RENEW_BEFORE_DAYS = 30
# Names the server certificate holds (the stack listens on the loopback only).
SERVER_NAMES = ("localhost",)
SERVER_ADDRESSES = ("127.0.0.1", "::1")
# The event streams: GET .../namespaces/{ns}/events and .../activations/{id}/events.
EVENT_STREAMS = r"^/api/v1/namespaces/[^/]+/(events|activations/[^/]+/events)$"


@dataclass(frozen=True)
class Certificate:
    """Paths of a PEM certificate chain, its key, and the CA file clients trust (or None)."""

    cert: Path
    key: Path
    ca: Path | None


@dataclass(frozen=True)
class FrontDoor:
    """What the configuration needs: where nginx lives, where it listens, where it forwards.

    ``upstreams`` holds ``host:port`` of every API instance; ``prefix`` is
    nginx's own folder (logs, temporary files, pid); ``user`` the workers'
    user when nginx starts as root (None: nginx's default).
    """

    prefix: Path
    tls_port: int
    upstreams: Sequence[str]
    certificate: Certificate
    user: str | None = None


def render(door: FrontDoor) -> str:
    """nginx.conf for ``door``; its master stays in the foreground (nginx.sh keeps the pid)."""
    if not door.upstreams:
        raise ValueError("the front door needs at least one API instance to forward to")
    servers = "\n".join(f"    server {upstream};" for upstream in door.upstreams)
    prefix = door.prefix
    header_kb = HEADER_MARGIN * max(HEADER_MAX_BYTES, URI_MAX_BYTES) // 1024
    user = f"user {door.user};\n" if door.user else ""
    return f"""# Written by api/frontdoor.py at every start; edits are lost.
{user}daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;

events {{
  worker_connections 1024;
}}

http {{
  access_log {prefix}/logs/access.log;
  client_body_temp_path {prefix}/tmp/body;
  proxy_temp_path {prefix}/tmp/proxy;
  fastcgi_temp_path {prefix}/tmp/fastcgi;
  uwsgi_temp_path {prefix}/tmp/uwsgi;
  scgi_temp_path {prefix}/tmp/scgi;
  server_tokens off;

  # Above the API's limits (streams/constants.py, api/server.py: a body of
  # {constants.REQUEST_MAX_BYTES} bytes, a request line of {URI_MAX_BYTES}, a header of
  # {HEADER_MAX_BYTES}), so the API answers what exceeds them with its own error.
  client_max_body_size {constants.REQUEST_MAX_BYTES + BODY_MARGIN_BYTES};
  client_header_buffer_size 1k;
  large_client_header_buffers 8 {header_kb}k;

  # The Host the client sent, port and all; an HTTP/1.0 request without one
  # gets the server's name (an empty Host is a 400 at the API).
  map $http_host $ledgerwhisk_host {{
    "" $host;
    default $http_host;
  }}

  upstream ledgerwhisk_api {{
{servers}
    keepalive {UPSTREAM_KEEPALIVE};
  }}

  server {{
    listen 127.0.0.1:{door.tls_port} ssl;
    listen [::1]:{door.tls_port} ssl;
    server_name localhost;
    ssl_certificate {door.certificate.cert};
    ssl_certificate_key {door.certificate.key};
    ssl_protocols TLSv1.2 TLSv1.3;

    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $ledgerwhisk_host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto https;
    proxy_connect_timeout 5s;
    proxy_send_timeout {PROXY_READ_TIMEOUT_S}s;
    proxy_read_timeout {PROXY_READ_TIMEOUT_S}s;
    # The body goes on as it arrives: the API checks its size and answers 413.
    proxy_request_buffering off;

    location ~ {EVENT_STREAMS} {{
      proxy_pass http://ledgerwhisk_api;
      proxy_buffering off;
      proxy_cache off;
    }}

    location / {{
      proxy_pass http://ledgerwhisk_api;
    }}
  }}
}}
"""


def ensure_certificate(folder: Path, now: datetime.datetime | None = None) -> Certificate:
    """The stack's own certificate in ``folder``: kept while valid, else made anew.

    Writes ``ca.pem`` (a local CA made for this stack alone; its key is not
    kept), ``server.pem`` (the server certificate for ``localhost``,
    127.0.0.1 and ::1, then the CA) and ``server-key.pem`` (mode 0600).
    """
    now = now or datetime.datetime.now(datetime.UTC)
    made = Certificate(folder / "server.pem", folder / "server-key.pem", folder / "ca.pem")
    if _still_valid(made, now):
        return made
    folder.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Ledgerwhisk local CA")])
    until = now + datetime.timedelta(days=CERTIFICATE_DAYS)
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(name) for name in SERVER_NAMES]
    names += [x509.IPAddress(ipaddress.ip_address(address)) for address in SERVER_ADDRESSES]
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAMES[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write(made.key, key_pem, mode=0o600)
    _write(made.cert, server.public_bytes(pem) + ca.public_bytes(pem), mode=0o644)
    assert made.ca is not None
    _write(made.ca, ca.public_bytes(pem), mode=0o644)
    return made


def _still_valid(made: Certificate, now: datetime.datetime) -> bool:
    if not (made.cert.exists() and made.key.exists() and made.ca and made.ca.exists()):
        return False
    try:
        first = x509.load_pem_x509_certificate(made.cert.read_bytes())
    except ValueError:
        return False
    return first.not_valid_after_utc - now > datetime.timedelta(days=RENEW_BEFORE_DAYS)


def _write(path: Path, data: bytes, mode: int) -> None:
    """Write whole or not at all (a reader never sees half a key)."""
    partial = path.with_name(path.name + ".tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(partial, mode)
    os.replace(partial, path)


def main(argv: Sequence[str] | None = None) -> None:
    """Write ``<prefix>/nginx.conf`` (and the certificate when none is given); print its path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", type=Path, required=True, help="nginx's folder")
    parser.add_argument("--tls-port", type=int, required=True)
    parser.add_argument("--upstream", action="append", required=True, help="host:port of an API")
    parser.add_argument("--cert", type=Path, help="a PEM certificate chain (LEDGERWHISK_TLS_CERT)")
    parser.add_argument("--key", type=Path, help="its PEM key (LEDGERWHISK_TLS_KEY)")
    parser.add_argument("--user", help="the workers' user when nginx starts as root")
    args = parser.parse_args(argv)
    if (args.cert is None) != (args.key is None):
        parser.error("LEDGERWHISK_TLS_CERT and LEDGERWHISK_TLS_KEY go together")
    if args.cert is not None:
        certificate = Certificate(args.cert.resolve(), args.key.resolve(), None)
    else:
        certificate = ensure_certificate(args.prefix.parent / "tls")
    prefix = args.prefix.resolve()
    for folder in ("logs", "tmp"):
        (prefix / folder).mkdir(parents=True, exist_ok=True)
    door = FrontDoor(prefix, args.tls_port, args.upstream, certificate, args.user)
    conf = prefix / "nginx.conf"
    conf.write_text(render(door))
    print(conf)


if __name__ == "__main__":
    main()
