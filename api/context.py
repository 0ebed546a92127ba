"""What every handler needs, created once per API process."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from api.accept import Invocations
from api.auth import Authenticator
from api.entities import EntityStore
from api.ledger import Ledger
from store.couch import Couch
from streams.settings import Settings


@dataclass
class Context:
    settings: Settings
    couch: Couch
    auth: Authenticator
    entities: EntityStore
    ledger: Ledger
    invocations: Invocations


CONTEXT = web.AppKey("context", Context)


def ctx(request: web.Request) -> Context:
    return request.app[CONTEXT]
