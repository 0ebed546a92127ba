"""The CouchDB client every component uses (aiocouch), working with CouchDB 3 and PouchDB Server.

PouchDB Server answers ``text/plain`` unless a request says ``Accept:
application/json``; every request made here says so. Library errors are
translated into ``StoreError`` subclasses at this boundary.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any, cast

import aiocouch
import aiohttp
from aiocouch.database import Database

from streams import jsoncodec
from streams.settings import Settings

JsonDict = dict[str, Any]
# View query parameters whose values CouchDB reads as JSON.
JSON_PARAMS = frozenset({"key", "keys", "startkey", "endkey", "start_key", "end_key"})


class StoreError(Exception):
    """Base of the store's errors."""


class StoreUnavailable(StoreError):
    """The CouchDB API server cannot be reached or failed."""


class Conflict(StoreError):
    """A document changed under us (or exists already)."""


def _json_accept_trace() -> aiohttp.TraceConfig:
    async def on_start(
        _session: aiohttp.ClientSession, _ctx: Any, params: aiohttp.TraceRequestStartParams
    ) -> None:
        params.headers["Accept"] = "application/json"

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    return trace


@asynccontextmanager
async def _translated(what: str, url: str) -> AsyncIterator[None]:
    try:
        yield
    except aiocouch.ConflictError as exc:
        raise Conflict(f"{what}: conflict") from exc
    except aiocouch.NotFoundError as exc:
        # Reads of a missing document are answered before this; here the
        # database itself is missing (dropped): unavailable until recreated.
        raise StoreUnavailable(f"CouchDB at {url}: {what}: the database does not exist") from exc
    except (TimeoutError, aiohttp.ClientConnectionError, OSError) as exc:
        raise StoreUnavailable(
            f"CouchDB at {url} did not answer during {what} ({exc.__class__.__name__}); "
            "start it with `make up` or check .state/logs/couchdb.log"
        ) from exc
    except aiohttp.ClientResponseError as exc:
        raise StoreUnavailable(f"CouchDB at {url} failed during {what}: {exc}") from exc


class Couch:
    """A connection to one CouchDB API server, with helpers for the shapes we use."""

    def __init__(self, settings: Settings, timeout_s: float = 30.0):
        self.url = settings.couchdb_url.rstrip("/")
        self._settings = settings
        self._timeout_s = timeout_s
        self._client_: aiocouch.CouchDB | None = None
        self._dbs: dict[str, Database] = {}

    @property
    def _client(self) -> aiocouch.CouchDB:
        # Created on first use: an aiohttp session needs the running event loop.
        if self._client_ is None:
            self._client_ = aiocouch.CouchDB(
                self.url,
                user=self._settings.couchdb_user,
                password=self._settings.couchdb_password,
                trace_configs=[_json_accept_trace()],
                json_serialize=jsoncodec.dumps,
                timeout=aiohttp.ClientTimeout(total=self._timeout_s),
            )
        return self._client_

    async def close(self) -> None:
        if self._client_ is not None:
            await self._client_.close()
            self._client_ = None

    def db(self, name: str) -> Database:
        """The database object (no round trip; use ``ensure`` to create it)."""
        found = self._dbs.get(name)
        if found is None:
            found = self._dbs[name] = Database(self._client, name)
        return found

    async def ping(self) -> JsonDict:
        async with _translated("ping", self.url):
            return await self._client.info()

    async def ensure(self, name: str) -> None:
        async with _translated(f"create database {name}", self.url):
            await self._client.create(name, exists_ok=True)

    async def doc_count(self, name: str) -> int | None:
        """How many documents ``name`` holds (design documents too); None when it does not exist."""
        async with _translated(f"read database {name}", self.url):
            try:
                info = await self.db(name).info()
            except aiocouch.NotFoundError:
                return None
            return int(info.get("doc_count", 0))

    async def drop(self, name: str) -> None:
        async with _translated(f"delete database {name}", self.url):
            try:
                await self.db(name).delete()
            except aiocouch.NotFoundError:
                pass

    async def get(self, db: str, doc_id: str) -> JsonDict | None:
        async with _translated(f"read {db}/{doc_id}", self.url):
            try:
                doc = await self.db(db).get(doc_id)
            except aiocouch.NotFoundError:
                return None
            return dict(doc.data or {})

    async def get_rev(self, db: str, doc_id: str, rev: str) -> JsonDict | None:
        """One revision of a document (None when it is gone)."""
        async with _translated(f"read {db}/{doc_id}@{rev}", self.url):
            try:
                doc = await self.db(db).get(doc_id, rev=rev)
            except (aiocouch.NotFoundError, aiocouch.BadRequestError):
                return None
            return dict(doc.data or {})

    async def put(self, db: str, doc: JsonDict) -> str:
        """Create or update one document (``_rev`` in ``doc`` for an update); returns the rev."""
        async with _translated(f"write {db}/{doc['_id']}", self.url):
            # A ``_rev`` in the data makes this an update of that revision.
            document = aiocouch.Document(self.db(db), doc["_id"], data=dict(doc))
            await document.save()
            return str(document.rev)

    async def delete(self, db: str, doc_id: str) -> bool:
        async with _translated(f"delete {db}/{doc_id}", self.url):
            try:
                doc = await self.db(db).get(doc_id)
            except aiocouch.NotFoundError:
                return False
            await doc.delete()
            return True

    async def get_many(self, db: str, ids: Iterable[str]) -> dict[str, JsonDict]:
        """The existing documents among ``ids``, by id, in one request."""
        keys = list(ids)
        if not keys:
            return {}
        async with _translated(f"read {len(keys)} docs of {db}", self.url):
            response = await self.db(db).all_docs.post(keys, include_docs=True)
            return {
                row["id"]: row["doc"]
                for row in response.rows
                if row.get("doc") and not row.get("value", {}).get("deleted")
            }

    async def bulk_write(self, db: str, docs: list[JsonDict]) -> list[JsonDict]:
        """``_bulk_docs``: write many documents in one request; returns per-doc status."""
        if not docs:
            return []
        async with _translated(f"bulk write of {len(docs)} docs to {db}", self.url):
            return cast(list[JsonDict], await self.db(db)._bulk_docs(docs))

    async def docs_page(self, db: str, after: str | None, limit: int) -> list[JsonDict]:
        """Up to ``limit`` documents in id order, starting after the id ``after``."""
        params: dict[str, Any] = {"include_docs": True, "limit": limit}
        if after is not None:
            params.update(startkey=json.dumps(after), skip=1)
        async with _translated(f"read {db}/_all_docs", self.url):
            response = await self.db(db).all_docs.get(**params)
            return [row["doc"] for row in response.rows if row.get("doc")]

    async def all_docs(self, db: str, page: int = 1000) -> AsyncIterator[JsonDict]:
        """Every document but the design documents, in id order, a page at a time."""
        after: str | None = None
        while True:
            docs = await self.docs_page(db, after, page)
            for doc in docs:
                if not doc["_id"].startswith("_design/"):
                    yield doc
            if len(docs) < page:
                return
            after = docs[-1]["_id"]

    async def view(self, db: str, ddoc: str, view: str, **params: Any) -> list[JsonDict]:
        """Rows of a view query (``params`` as CouchDB query parameters)."""
        query = {k: json.dumps(v) if k in JSON_PARAMS else v for k, v in params.items()}
        async with _translated(f"query {db}/_design/{ddoc}/_view/{view}", self.url):
            response = await self.db(db).view(ddoc, view).get(**query)
            return list(response.rows)

    async def view_count(self, db: str, ddoc: str, view: str, **params: Any) -> int:
        """The reduced value of a ``_count`` view over a key range (0 when empty)."""
        query = {k: json.dumps(v) if k in JSON_PARAMS else v for k, v in params.items()}
        query["reduce"] = True
        async with _translated(f"count {db}/_design/{ddoc}/_view/{view}", self.url):
            # A reduced answer has no offset/total_rows, which aiocouch's ViewResponse needs.
            answer = await self.db(db).view(ddoc, view)._get(**query)
        rows = answer.get("rows") or []
        return int(rows[0]["value"]) if rows else 0

    async def ensure_design(self, db: str, ddoc: str, views: dict[str, dict[str, str]]) -> None:
        """Create or update a design document holding ``views`` (map/reduce sources)."""
        doc_id = f"_design/{ddoc}"
        current = await self.get(db, doc_id)
        if current is not None and current.get("views") == views:
            return
        doc: JsonDict = {"_id": doc_id, "language": "javascript", "views": views}
        if current is not None:
            doc["_rev"] = current["_rev"]
        try:
            await self.put(db, doc)
        except Conflict:
            pass  # another process installed it at the same moment
