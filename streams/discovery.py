"""Consul, where one is configured: invokers register with a TTL check, controllers read it.

Each invoker is a service instance ``<prefix>-invoker<N>`` of the service
``<prefix>-invoker``, with a TTL check of ``invoker_offline_after_s`` that it
passes with every heartbeat. A controller asks Consul which instances pass and
feeds the answer to its ``ConsulRegistry``. Heartbeats on Kafka still carry the
details (memory, run, dispatch offset); Consul decides who is alive.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import consul
import consul.aio

from streams.errors import LedgerError
from streams.settings import Settings

log = logging.getLogger("ledgerwhisk.consul")

META_INVOKER = "invoker"


class DiscoveryError(LedgerError):
    """Consul did not answer or refused a request."""


def passing_invokers(entries: list[dict[str, Any]]) -> set[int]:
    """The invoker ids in a ``/v1/health/service/<name>?passing`` answer."""
    found: set[int] = set()
    for entry in entries:
        meta = (entry.get("Service") or {}).get("Meta") or {}
        value = meta.get(META_INVOKER)
        if value is not None and str(value).isdigit():
            found.add(int(value))
    return found


class Consul:
    """The few Consul calls Ledgerwhisk makes, through py-consul's asyncio client."""

    def __init__(self, settings: Settings):
        assert settings.consul_url, "LEDGERWHISK_CONSUL_URL is not set"
        url = urlsplit(settings.consul_url)
        scheme = url.scheme or "http"
        self.service = f"{settings.prefix}-invoker"
        self.ttl_s = settings.invoker_offline_after_s
        self._client = consul.aio.Consul(
            host=url.hostname or "127.0.0.1",
            port=url.port or 8500,
            scheme=scheme,
            verify=scheme == "https",
        )

    def service_id(self, invoker: int) -> str:
        return f"{self.service}{invoker}"

    async def register(self, invoker: int, meta: dict[str, str]) -> None:
        """Register (or re-register) one invoker with its TTL check."""
        await self._call(
            self._client.agent.service.register,
            self.service,
            service_id=self.service_id(invoker),
            meta={META_INVOKER: str(invoker), **meta},
            check=consul.Check.ttl(f"{int(self.ttl_s)}s"),
        )

    async def pass_ttl(self, invoker: int, note: str) -> None:
        await self._call(
            self._client.agent.check.ttl_pass, f"service:{self.service_id(invoker)}", note
        )

    async def deregister(self, invoker: int) -> None:
        await self._call(self._client.agent.service.deregister, self.service_id(invoker))

    async def passing(self) -> set[int]:
        """The invokers whose check passes now."""
        _, entries = await self._call(self._client.health.service, self.service, passing=True)
        return passing_invokers(entries or [])

    async def close(self) -> None:
        await self._client.close()

    async def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await fn(*args, **kwargs)
        except (aiohttp.ClientError, OSError, consul.ConsulException) as exc:
            raise DiscoveryError(f"Consul did not answer: {exc!r}") from exc
