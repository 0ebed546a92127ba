"""nginx's configuration and the stack's own certificate (api/frontdoor.py)."""

from __future__ import annotations

import datetime
import re
import ssl
from pathlib import Path

import pytest
from cryptography import x509

from api import frontdoor
from api.frontdoor import Certificate, FrontDoor, ensure_certificate, render
from streams import constants


def door(*upstreams: str) -> FrontDoor:
    cert = Certificate(Path("/s/tls/server.pem"), Path("/s/tls/server-key.pem"), None)
    return FrontDoor(Path("/s/nginx"), 3443, upstreams, cert)


def test_every_api_instance_is_a_keep_alive_upstream() -> None:
    conf = render(door("127.0.0.1:3233", "127.0.0.1:3234"))
    upstream = re.search(r"upstream ledgerwhisk_api \{(.*?)\}", conf, re.S)
    assert upstream is not None
    assert re.findall(r"server (\S+);", upstream.group(1)) == ["127.0.0.1:3233", "127.0.0.1:3234"]
    assert f"keepalive {frontdoor.UPSTREAM_KEEPALIVE};" in upstream.group(1)
    # Keep-alive to an upstream needs HTTP/1.1 and no "Connection: close".
    assert "proxy_http_version 1.1;" in conf and 'proxy_set_header Connection "";' in conf


def test_the_limits_are_the_apis() -> None:
    conf = render(door("127.0.0.1:3233"))
    # Above the API's own limits, so the API's error body answers what exceeds them.
    assert f"client_max_body_size {constants.REQUEST_MAX_BYTES + 1024 * 1024};" in conf
    assert "large_client_header_buffers 8 32k;" in conf
    assert f"proxy_read_timeout {constants.TIMEOUT_MAX_MS // 1000 + 30}s;" in conf
    assert "listen 127.0.0.1:3443 ssl;" in conf
    assert "X-Forwarded-For $proxy_add_x_forwarded_for;" in conf


def test_only_the_event_streams_are_unbuffered() -> None:
    conf = render(door("127.0.0.1:3233"))
    events = re.search(r"location ~ (\S+) \{(.*?)\}", conf, re.S)
    assert events is not None and "proxy_buffering off;" in events.group(2)
    pattern = re.compile(events.group(1))
    assert pattern.match("/api/v1/namespaces/_/events")
    assert pattern.match("/api/v1/namespaces/guest/activations/abc/events")
    assert not pattern.match("/api/v1/namespaces/_/activations")
    assert conf.count("proxy_buffering off;") == 1


def test_no_upstream_is_refused() -> None:
    with pytest.raises(ValueError):
        render(door())


def test_the_certificate_is_made_once_and_trusted_through_its_ca(tmp_path: Path) -> None:
    made = ensure_certificate(tmp_path)
    assert made.ca is not None
    first = made.cert.read_bytes()
    assert ensure_certificate(tmp_path).cert.read_bytes() == first  # kept while valid
    assert made.key.stat().st_mode & 0o077 == 0
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(made.cert, made.key)  # the key matches
    leaf = x509.load_pem_x509_certificate(first)
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    ca = x509.load_pem_x509_certificate(made.ca.read_bytes())
    leaf.verify_directly_issued_by(ca)


def test_a_certificate_near_its_end_is_made_anew(tmp_path: Path) -> None:
    made = ensure_certificate(tmp_path)
    first = made.cert.read_bytes()
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(
        days=frontdoor.CERTIFICATE_DAYS - frontdoor.RENEW_BEFORE_DAYS + 1
    )
    assert ensure_certificate(tmp_path, now=later).cert.read_bytes() != first
