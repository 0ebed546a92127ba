"""One run of ``lwsk``: its global options, the client they configure, and its output."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import click

from api.cli.client import Client
from api.cli.config import Endpoint, target
from api.cli.output import Output

log = logging.getLogger("lwsk")


@dataclass
class Session:
    """The global options of ``wsk`` (apache/openwhisk-cli ``commands/wsk.go``), wherever
    they were given on the line, and ``--json``."""

    json: bool = False
    verbose: bool = False
    debug: bool = False
    insecure: bool = False
    apihost: str | None = None
    auth: str | None = None
    apiversion: str | None = None
    cert: str | None = None
    key: str | None = None
    _client: Client | None = field(default=None, repr=False)

    @property
    def out(self) -> Output:
        return Output(self.json)

    @property
    def endpoint(self) -> Endpoint:
        found = target(self.apihost, self.auth, self.apiversion, self.cert, self.key)
        log.debug("API host %s (from %s)", found.apihost, found.host_source)
        log.debug("key %s:*** (from %s)", found.uuid, found.auth_source)
        return found

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = Client(self.endpoint, verbose=self.verbose, insecure=self.insecure)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


pass_session = click.make_pass_decorator(Session, ensure=True)
