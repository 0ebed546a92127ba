"""The libraries OpenWhisk's runtimes ship preinstalled (runtimes/manifest.json
``libraries``): an action can import them without bundling them."""

from __future__ import annotations

import pytest

from tests.support.client import Client

pytestmark = pytest.mark.integration

PYTHON = """
import bs4, dateutil, httplib2, kafka, lxml.etree, requests, scrapy, simplejson, twisted
def main(args):
    soup = bs4.BeautifulSoup("<p>hi</p>", "lxml")
    return {"requests": requests.__version__, "text": soup.p.text,
            "json": simplejson.dumps({"a": 1})}
"""
NODE = """
const openwhisk = require('openwhisk');
const { v4 } = require('uuid');
require('express'); require('redis');
function main(args) {
  const ow = openwhisk({ apihost: 'example.com', api_key: 'a:b' });
  return { uuid: v4().length, actions: typeof ow.actions.invoke };
}
"""


async def test_python_actions_import_openwhisks_preinstalled_libraries(client: Client) -> None:
    assert (await client.put_action("pylibs", PYTHON, kind="python:3.11"))[0] == 200
    status, result = await client.invoke("pylibs", result=True)
    assert (status, result) == (200, {"requests": "2.32.2", "text": "hi", "json": '{"a": 1}'})


async def test_nodejs_actions_require_openwhisks_preinstalled_libraries(client: Client) -> None:
    assert (await client.put_action("nodelibs", NODE, kind="nodejs:18"))[0] == 200
    status, result = await client.invoke("nodelibs", result=True)
    assert (status, result) == (200, {"uuid": 36, "actions": "function"})
