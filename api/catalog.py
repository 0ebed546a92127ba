"""The system catalog: the public packages every stack installs.

``/whisk.system/utils``: the actions behave as OpenWhisk's catalog ships them
(same inputs and outputs), written here for the ``nodejs`` kind.
``/whisk.system/alarms`` (``alarm``, ``interval``, ``once``) and
``/whisk.system/messaging`` (``kafkaFeed``): feed actions (annotation
``feed``), python actions forwarding to ``/api/v1/feeds`` (feeds/action.py),
with OpenWhisk's descriptions and parameter annotations
(openwhisk-package-alarms and openwhisk-package-kafka ``installCatalog.sh``).
``python -m api.setup`` installs or refreshes them; installing twice changes
nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from api import entities
from api.names import EntityRef
from feeds import action as feed_action
from store.couch import Conflict, Couch
from streams import constants
from streams.ids import now_ms
from streams.settings import Settings

log = logging.getLogger("ledgerwhisk.catalog")

PACKAGE = "utils"
KIND = "nodejs:18"
FEED_KIND = "python:3.11"

SOURCES: dict[str, tuple[str, str]] = {
    "echo": (
        "Returns the input",
        "function main(params) {\n  return params || {};\n}\n",
    ),
    "cat": (
        "Concatenates input into a string",
        "function main(args) {\n"
        "  const lines = args.lines || [];\n"
        "  const out = { lines: lines, payload: lines.join('\\n') };\n"
        "  console.log('cat: returning ' + JSON.stringify(out));\n"
        "  return out;\n"
        "}\n",
    ),
    "sort": (
        "Sorts an array",
        "function main(args) {\n"
        "  const lines = args.lines || [];\n"
        "  console.log('sort before: ' + lines);\n"
        "  lines.sort();\n"
        "  console.log('sort after: ' + lines);\n"
        "  return { lines: lines, length: lines.length };\n"
        "}\n",
    ),
    "head": (
        "Extract prefix of an array",
        "function main(args) {\n"
        "  const lines = args.lines || [];\n"
        "  const num = args.num || 1;\n"
        "  const head = lines.slice(0, num);\n"
        "  console.log('head: first ' + num + ' of ' + lines.length + ' lines');\n"
        "  return { lines: head, num: num };\n"
        "}\n",
    ),
    "split": (
        "Split a string into an array",
        "function main(args) {\n"
        "  const separator = args.separator || /\\r?\\n/;\n"
        "  const text = String(args.payload);\n"
        "  const out = { lines: text.split(separator), payload: args.payload };\n"
        "  console.log('split: returning ' + JSON.stringify(out));\n"
        "  return out;\n"
        "}\n",
    ),
    "date": (
        "Current date and time",
        "function main() {\n"
        "  const now = new Date();\n"
        "  console.log('It is now ' + now);\n"
        "  return { date: now };\n"
        "}\n",
    ),
    "namespace": (
        "Returns namespace for the authorization key used to invoke this action",
        "function main() {\n  return { namespace: process.env.__OW_NAMESPACE };\n}\n",
    ),
}


def _param(name: str, required: bool, description: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "required": required}
    if description:
        out["description"] = description
    return out


# Feed packages: package → (description, its parameters, {action: (description, parameters)}).
FEEDS: dict[str, tuple[str, list[dict[str, Any]], dict[str, tuple[str, list[dict[str, Any]]]]]] = {
    "alarms": (
        "Alarms and periodic utility",
        [_param("trigger_payload", False)],
        {
            "alarm": (
                "Fire trigger when alarm occurs",
                [
                    _param("cron", True),
                    _param("timezone", False),
                    _param("startDate", False),
                    _param("stopDate", False),
                    _param("strict", False),
                ],
            ),
            "once": (
                "Fire trigger once when alarm occurs",
                [_param("date", True), _param("deleteAfterFire", False)],
            ),
            "interval": (
                "Fire trigger at specified interval",
                [_param("minutes", True), _param("startDate", False), _param("stopDate", False)],
            ),
        },
    ),
    "messaging": (
        "Messaging package: fire triggers from Kafka topics",
        [],
        {
            "kafkaFeed": (
                "Feed to listen to Kafka messages",
                [
                    _param("brokers", True, "Array of Kafka brokers"),
                    _param("topic", True, "Topic to subscribe to"),
                    _param("isJSONData", False, "Attempt to parse message value as JSON"),
                    _param("isBinaryKey", False, "Encode key as Base64"),
                    _param("isBinaryValue", False, "Encode message value as Base64"),
                    _param("endpoint", False, "Hostname and port of OpenWhisk deployment"),
                ],
            )
        },
    ),
}


def _package(name: str, description: str, parameters: list[dict[str, Any]]) -> dict[str, Any]:
    annotations: list[dict[str, Any]] = [{"key": "description", "value": description}]
    if parameters:
        annotations.append({"key": "parameters", "value": parameters})
    return entities.package_doc(
        EntityRef(constants.SYSTEM_NAMESPACE, name),
        binding={},
        parameters=[],
        annotations=annotations,
        version="0.0.1",
        publish=True,
    )


def _action(
    package: str, name: str, exec_: dict[str, Any], annotations: list[dict[str, Any]]
) -> dict[str, Any]:
    return entities.action_doc(
        EntityRef(constants.SYSTEM_NAMESPACE, name, package),
        exec_=exec_,
        parameters=[],
        # As `wsk action create` stores them: no caller's key (a feed action
        # gets the trigger owner's as its authKey parameter).
        annotations=[*annotations, {"key": constants.ANNOTATION_PROVIDE_API_KEY, "value": False}],
        limits=entities.default_limits(),
        version="0.0.1",
        publish=False,
    )


def package_docs() -> list[dict[str, Any]]:
    utils = _package(PACKAGE, "Building blocks that format and assemble data", [])
    return [utils, *(_package(n, d, p) for n, (d, p, _) in FEEDS.items())]


def action_docs() -> list[dict[str, Any]]:
    docs = [
        _action(
            PACKAGE,
            name,
            {"kind": KIND, "code": code, "binary": False},
            [{"key": "description", "value": description}],
        )
        for name, (description, code) in SOURCES.items()
    ]
    for package, (_, _, actions) in FEEDS.items():
        for name, (description, parameters) in actions.items():
            code = feed_action.source(f"/{constants.SYSTEM_NAMESPACE}/{package}/{name}")
            annotations: list[dict[str, Any]] = [
                {"key": "description", "value": description},
                {"key": "parameters", "value": parameters},
                {"key": "feed", "value": True},
            ]
            docs.append(
                _action(
                    package, name, {"kind": FEED_KIND, "code": code, "binary": False}, annotations
                )
            )
    return docs


def _same(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    ignored = {"_id", "_rev", "updated"}
    return {k: v for k, v in current.items() if k not in ignored} == {
        k: v for k, v in wanted.items() if k not in ignored
    }


async def install(couch: Couch, settings: Settings) -> None:
    """Write the package and its actions where they differ from what is stored."""
    db = settings.database(constants.DB_WHISKS)
    for doc in [*package_docs(), *action_docs()]:
        current = await couch.get(db, doc["_id"])
        if current is not None and _same(current, doc):
            continue
        doc = {**doc, "updated": now_ms()}
        if current is not None:
            doc["_rev"] = current["_rev"]
        try:
            await couch.put(db, doc)
        except Conflict:
            log.info("%s changed while installing the catalog; leaving it", doc["_id"])
