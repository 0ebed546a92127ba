"""Where feed registrations and the service's state of them live: two CouchDB databases.

``<prefix>_feeds`` holds registrations (``feeds/registration.py``), written
by the API's ``/api/v1/feeds`` (the feed service only deletes one, with its
trigger, after a ``once`` alarm with ``deleteAfterFire``); ``<prefix>_feedstate``
holds the feed service's state of each, written only by the feed service. The service
follows the first with CouchDB's ``_changes`` feed (long polling), as
OpenWhisk's providers follow their trigger database.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from store.couch import Conflict, Couch, StoreUnavailable
from store.views import SUBJECTS_DDOC
from streams import constants
from streams.settings import Settings

JsonDict = dict[str, Any]
CHANGES_TIMEOUT_MS = 25_000


class FeedStore:
    """Registrations and states over one ``Couch`` connection."""

    def __init__(self, couch: Couch, settings: Settings):
        self.couch = couch
        self.settings = settings
        self.registrations_db = settings.database(constants.DB_FEEDS)
        self.states_db = settings.database(constants.DB_FEED_STATE)

    async def ensure(self) -> None:
        """Create both databases (``api/setup.py`` calls this on every start)."""
        await self.couch.ensure(self.registrations_db)
        await self.couch.ensure(self.states_db)

    # -- registrations ----------------------------------------------------------
    async def registration(self, registration_id: str) -> JsonDict | None:
        return await self.couch.get(self.registrations_db, registration_id)

    async def put_registration(self, doc: JsonDict) -> JsonDict:
        """Write it (``_rev`` for an update); ``Conflict`` when it changed meanwhile."""
        rev = await self.couch.put(self.registrations_db, doc)
        return {**doc, "_rev": rev}

    async def delete_registration(self, registration_id: str) -> bool:
        return await self.couch.delete(self.registrations_db, registration_id)

    async def all_registrations(self) -> list[JsonDict]:
        return [doc async for doc in self.couch.all_docs(self.registrations_db)]

    # -- states -------------------------------------------------------------------
    async def state(self, uuid: str) -> JsonDict | None:
        return await self.couch.get(self.states_db, uuid)

    async def put_state(self, state: JsonDict) -> JsonDict:
        """Write the service's state; it alone writes it, so a conflict means a stale
        ``_rev`` of its own: read the current one and write again."""
        try:
            rev = await self.couch.put(self.states_db, state)
        except Conflict:
            current = await self.state(state["_id"])
            fresh = {k: v for k, v in state.items() if k != "_rev"}
            if current is not None:
                fresh["_rev"] = current["_rev"]
            rev = await self.couch.put(self.states_db, fresh)
        return {**state, "_rev": rev}

    async def delete_state(self, uuid: str) -> None:
        await self.couch.delete(self.states_db, uuid)

    async def all_states(self) -> list[JsonDict]:
        return [doc async for doc in self.couch.all_docs(self.states_db)]

    # -- following changes --------------------------------------------------------
    async def update_seq(self, session: aiohttp.ClientSession) -> str:
        """The registrations database's current sequence: follow changes from here."""
        info = await self._get(session, self.registrations_db, {})
        return str(info["update_seq"])

    async def changes(
        self, session: aiohttp.ClientSession, since: str
    ) -> tuple[list[JsonDict], str]:
        """The registrations changed after ``since`` (waiting up to 25 s for one), and the
        sequence to ask from next. Each row: ``id``, ``deleted`` and ``doc``."""
        answer = await self._get(
            session,
            f"{self.registrations_db}/_changes",
            {
                "feed": "longpoll",
                "since": since,
                "include_docs": "true",
                "timeout": str(CHANGES_TIMEOUT_MS),
            },
        )
        return list(answer.get("results") or []), str(answer.get("last_seq", since))

    async def _get(
        self, session: aiohttp.ClientSession, path: str, params: dict[str, str]
    ) -> JsonDict:
        url = f"{self.couch.url}/{path}"
        auth = None
        if self.settings.couchdb_user:
            auth = aiohttp.BasicAuth(
                self.settings.couchdb_user, self.settings.couchdb_password or ""
            )
        timeout = aiohttp.ClientTimeout(total=CHANGES_TIMEOUT_MS / 1000 + 30)
        try:
            async with session.get(
                url,
                params=params,
                auth=auth,
                headers={"Accept": "application/json"},
                timeout=timeout,
            ) as resp:
                resp.raise_for_status()
                answer: JsonDict = await resp.json(content_type=None)
                return answer
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise StoreUnavailable(
                f"CouchDB at {self.couch.url} did not answer for {path} ({exc!r}); "
                "start it with `make up` or check .state/logs/couchdb.log"
            ) from exc


async def system_secret(couch: Couch, settings: Settings) -> str | None:
    """The system subject's ``uuid:key``: the key feed fires are signed with (feeds/firing.py)."""
    rows = await couch.view(
        settings.database(constants.DB_SUBJECTS),
        SUBJECTS_DDOC,
        "byNamespace",
        key=constants.SYSTEM_NAMESPACE,
        limit=1,
    )
    if not rows:
        return None
    value = rows[0]["value"]
    return f"{value['uuid']}:{value['key']}"
