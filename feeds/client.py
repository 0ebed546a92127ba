"""The feed service's client of the platform's REST API: it fires triggers as their owners.

Every fire is an ordinary ``POST /api/v1/namespaces/NS/triggers/NAME`` with
the key stored in the registration, so it is a trigger activation in the
ledger like any other; the signed ``X-Ledgerwhisk-Feed-Fire`` header
(``feeds/firing.py``) adds its id and ``cause``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import quote

import aiohttp

from feeds import firing
from feeds.firing import FeedFire, Outcome
from feeds.store import system_secret
from store.couch import Couch, StoreUnavailable
from streams.messages import FEEDS_API_DOWN
from streams.settings import Settings

log = logging.getLogger("ledgerwhisk.feeds.client")
JsonDict = dict[str, Any]
REQUEST_TIMEOUT_S = 30.0


class PlatformClient:
    """Fires triggers and deletes them (``deleteAfterFire``) through the REST API."""

    def __init__(self, session: aiohttp.ClientSession, couch: Couch, settings: Settings):
        self.session = session
        self.couch = couch
        self.api = (settings.feeds_api_url or settings.public_api_url).rstrip("/")
        self.settings = settings
        self._secret: str | None = None

    async def secret(self, fresh: bool = False) -> str:
        """The system key fires are signed with, read from CouchDB (again when ``fresh``)."""
        if self._secret is None or fresh:
            self._secret = await system_secret(self.couch, self.settings) or ""
        return self._secret

    def _trigger_url(self, registration: JsonDict) -> str:
        ns, name = (
            quote(registration["namespace"], safe=""),
            quote(registration["trigger"], safe=""),
        )
        return f"{self.api}/api/v1/namespaces/{ns}/triggers/{name}"

    def _auth(self, registration: JsonDict) -> aiohttp.BasicAuth:
        uuid, _, key = registration["apikey"].partition(":")
        return aiohttp.BasicAuth(uuid, key)

    async def fire_once(
        self, registration: JsonDict, payload: JsonDict, fire: FeedFire
    ) -> int | None:
        """One try: the HTTP status, or None when the API did not answer."""
        path = registration["_id"]
        for fresh in (False, True):
            headers = {firing.HEADER: fire.header(await self.secret(fresh), path)}
            try:
                async with self.session.post(
                    self._trigger_url(registration),
                    json=payload,
                    auth=self._auth(registration),
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
                ) as resp:
                    await resp.read()
                    status = resp.status
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                log.warning(FEEDS_API_DOWN.format(url=self.api, cause=repr(exc)))
                return None
            if status != 403 or fresh:
                return status
            # 403: the system key may have changed since it was read; read it again once.
        return None

    async def fire(
        self, registration: JsonDict, payload: JsonDict, fire: FeedFire, stop: asyncio.Event
    ) -> tuple[Outcome, int] | None:
        """Fire until the answer settles it (accepted, or the registration ends), trying
        again with back-off while the platform is busy or down; None when ``stop`` is set
        first (the fire stays pending and is tried again by whoever runs it next)."""
        attempt = 0
        while not stop.is_set():
            try:
                status = await self.fire_once(registration, payload, fire)
            except StoreUnavailable as exc:
                log.warning("feeds: %s", exc)
                status = None
            if status is not None:
                outcome = firing.outcome_of(status)
                if outcome is not Outcome.RETRY:
                    return outcome, status
            attempt += 1
            log.info(
                "feeds: fire %s of /%s answered %s; trying again (try %d)",
                fire.fire_id,
                registration["_id"],
                status,
                attempt + 1,
            )
            try:
                await asyncio.wait_for(stop.wait(), firing.retry_delay_s(attempt))
            except TimeoutError:
                pass
        return None

    async def delete_trigger(self, registration: JsonDict, with_rules: bool) -> None:
        """``deleteAfterFire``: delete the trigger (and, for ``rules``, its rules first)."""
        url = self._trigger_url(registration)
        auth = self._auth(registration)
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
        try:
            if with_rules:
                async with self.session.get(url, auth=auth, timeout=timeout) as resp:
                    trigger = await resp.json(content_type=None) if resp.status == 200 else {}
                for rule in (trigger.get("rules") or {}) if isinstance(trigger, dict) else {}:
                    rule_name = rule.rsplit("/", 1)[-1]
                    ns = quote(registration["namespace"], safe="")
                    rule_url = (
                        f"{self.api}/api/v1/namespaces/{ns}/rules/{quote(rule_name, safe='')}"
                    )
                    async with self.session.delete(rule_url, auth=auth, timeout=timeout):
                        pass
            async with self.session.delete(url, auth=auth, timeout=timeout):
                pass
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            log.warning("feeds: deleting /%s after its fire failed: %r", registration["_id"], exc)
