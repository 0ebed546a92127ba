"""Where the integration run's own stack lives: its state folder, ports and prefix.

It runs beside any dev stack. Several checkouts may test at once on one
machine: each picks its own ports and prefix with LEDGERWHISK_TEST_PORT_BASE
and LEDGERWHISK_TEST_PREFIX (containers are labelled with the prefix too).
"""

from __future__ import annotations

import os
from pathlib import Path

from streams.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PORT_BASE = int(os.environ.get("LEDGERWHISK_TEST_PORT_BASE", "19000"))
PREFIX = os.environ.get("LEDGERWHISK_TEST_PREFIX", "lwtest")
TEST_ENV = {
    "LEDGERWHISK_STATE_DIR": str(ROOT / ".state" / "test"),
    "LEDGERWHISK_KAFKA_PORT": str(PORT_BASE + 92),
    "LEDGERWHISK_COUCHDB_PORT": str(PORT_BASE + 84),
    "LEDGERWHISK_API_PORT": str(PORT_BASE + 33),
    # nginx's HTTPS in front of the API (3443 on a dev stack; +40 on are the clusters' APIs).
    "LEDGERWHISK_TLS_PORT": str(PORT_BASE + 443),
    # GET /metrics of the metrics exporter (9095 on a dev stack).
    "LEDGERWHISK_METRICS_PORT": str(PORT_BASE + 95),
    # Each service's own figures every second (5 s on a dev stack).
    "LEDGERWHISK_STATS_INTERVAL_S": "1",
    "LEDGERWHISK_PREFIX": PREFIX,
    # Short idle times so pause and removal happen within a test.
    "LEDGERWHISK_CONTAINER_IDLE_PAUSE_S": "3",
    # Alarm intervals of a few seconds, so interval feeds fire within a test.
    "LEDGERWHISK_FEEDS_MIN_INTERVAL_S": "1",
    "INVOKERS": "1",
}
API = f"http://127.0.0.1:{TEST_ENV['LEDGERWHISK_API_PORT']}"
API_TLS = f"https://127.0.0.1:{TEST_ENV['LEDGERWHISK_TLS_PORT']}"
METRICS = f"http://127.0.0.1:{TEST_ENV['LEDGERWHISK_METRICS_PORT']}/metrics"
# The CA of the stack's own certificate (made by api/frontdoor.py at its first start).
TLS_CA = Path(TEST_ENV["LEDGERWHISK_STATE_DIR"]) / "tls" / "ca.pem"


def settings() -> Settings:
    """The test stack's settings, as a test process talks to it."""
    return Settings(
        kafka_bootstrap=f"127.0.0.1:{TEST_ENV['LEDGERWHISK_KAFKA_PORT']}",
        couchdb_url=f"http://127.0.0.1:{TEST_ENV['LEDGERWHISK_COUCHDB_PORT']}",
        prefix=PREFIX,
        api_port=int(TEST_ENV["LEDGERWHISK_API_PORT"]),
    )
