"""The system catalog: the public ``/whisk.system/utils`` package every stack installs.

The actions behave as OpenWhisk's catalog ships them (same inputs and outputs),
written here for the ``nodejs`` kind. ``python -m api.setup`` installs or
refreshes them; installing twice changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from api import entities
from api.names import EntityRef
from store.couch import Conflict, Couch
from streams import constants
from streams.ids import now_ms
from streams.settings import Settings

log = logging.getLogger("ledgerwhisk.catalog")

PACKAGE = "utils"
KIND = "nodejs:18"

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


def package_doc() -> dict[str, Any]:
    ref = EntityRef(constants.SYSTEM_NAMESPACE, PACKAGE)
    return entities.package_doc(
        ref,
        binding={},
        parameters=[],
        annotations=[
            {"key": "description", "value": "Building blocks that format and assemble data"}
        ],
        version="0.0.1",
        publish=True,
    )


def action_docs() -> list[dict[str, Any]]:
    docs = []
    for name, (description, code) in SOURCES.items():
        ref = EntityRef(constants.SYSTEM_NAMESPACE, name, PACKAGE)
        docs.append(
            entities.action_doc(
                ref,
                exec_={"kind": KIND, "code": code, "binary": False},
                parameters=[],
                # As `wsk action create` stores them: no key for code that needs none.
                annotations=[
                    {"key": "description", "value": description},
                    {"key": constants.ANNOTATION_PROVIDE_API_KEY, "value": False},
                ],
                limits=entities.default_limits(),
                version="0.0.1",
                publish=False,
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
    for doc in [package_doc(), *action_docs()]:
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
