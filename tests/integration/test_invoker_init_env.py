"""What an action's code sees while it loads: the ``__OW_*`` context and its init parameters.

OpenWhisk sends ``__OW_API_HOST``, ``__OW_API_KEY`` (when the action is
granted it), ``__OW_NAMESPACE``, ``__OW_ACTION_NAME``, ``__OW_ACTION_VERSION``,
``__OW_ACTIVATION_ID``, ``__OW_TRANSACTION_ID`` and ``__OW_DEADLINE`` in
``/init``'s ``env`` (ContainerProxy.scala; apache/openwhisk#4722), and the
runtimes export them before the code loads. A parameter created with
``"init": true`` keeps the flag and is passed as environment at ``/init`` only,
never to ``main`` (Parameter.scala, ``ContainerProxy.partitionArguments``).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import kv
from tests.support.client import Client

pytestmark = pytest.mark.integration

OW_KEYS = (
    "__OW_API_HOST",
    "__OW_API_KEY",
    "__OW_NAMESPACE",
    "__OW_ACTION_NAME",
    "__OW_ACTION_VERSION",
    "__OW_ACTIVATION_ID",
    "__OW_TRANSACTION_ID",
    "__OW_DEADLINE",
)
TIMEOUT_MS = 20_000  # covers a compile at /init (go, java) on a loaded machine

# Each records, while its code loads, every __OW_* variable and SECRET; main
# returns that record and its own arguments.
LOADERS: dict[str, tuple[str, dict[str, Any]]] = {
    "python:3.11": (
        "import os\n"
        "AT_LOAD = {k: v for k, v in os.environ.items()\n"
        "           if k.startswith('__OW_') or k == 'SECRET'}\n"
        "def main(args):\n"
        "    return {'load': AT_LOAD, 'args': args}\n",
        {},
    ),
    "nodejs:18": (
        "const AT_LOAD = {};\n"
        "for (const k of Object.keys(process.env)) {\n"
        "  if (k.startsWith('__OW_') || k === 'SECRET') AT_LOAD[k] = process.env[k];\n"
        "}\n"
        "function main(args) { return {load: AT_LOAD, args: args}; }\n",
        {},
    ),
    "go:1.19": (
        "package main\n\n"
        'import (\n\t"os"\n\t"strings"\n)\n\n'
        "var atLoad = func() map[string]interface{} {\n"
        "\tm := map[string]interface{}{}\n"
        "\tfor _, kv := range os.Environ() {\n"
        '\t\tp := strings.SplitN(kv, "=", 2)\n'
        '\t\tif strings.HasPrefix(p[0], "__OW_") || p[0] == "SECRET" {\n'
        "\t\t\tm[p[0]] = p[1]\n"
        "\t\t}\n"
        "\t}\n"
        "\treturn m\n"
        "}()\n\n"
        "func Main(args map[string]interface{}) map[string]interface{} {\n"
        '\treturn map[string]interface{}{"load": atLoad, "args": args}\n'
        "}\n",
        {},
    ),
    "java:17": (
        "import com.google.gson.JsonObject;\n"
        "import java.util.Map;\n\n"
        "public class Probe {\n"
        "    static final JsonObject AT_LOAD = new JsonObject();\n"
        "    static {\n"
        "        for (Map.Entry<String, String> e : System.getenv().entrySet()) {\n"
        '            if (e.getKey().startsWith("__OW_") || e.getKey().equals("SECRET")) {\n'
        "                AT_LOAD.addProperty(e.getKey(), e.getValue());\n"
        "            }\n"
        "        }\n"
        "    }\n\n"
        "    public static JsonObject main(JsonObject args) {\n"
        "        JsonObject out = new JsonObject();\n"
        '        out.add("load", AT_LOAD);\n'
        '        out.add("args", args);\n'
        "        return out;\n"
        "    }\n"
        "}\n",
        {"main": "Probe"},
    ),
    "ruby:3.1": (
        "AT_LOAD = ENV.to_h.select { |k, _| k.start_with?('__OW_') || k == 'SECRET' }\n"
        "def main(args)\n"
        "  { 'load' => AT_LOAD, 'args' => args }\n"
        "end\n",
        {},
    ),
    "php:8.2": (
        "<?php\n"
        "$GLOBALS['AT_LOAD'] = array_filter(getenv(), function ($k) {\n"
        "    return strpos($k, '__OW_') === 0 || $k === 'SECRET';\n"
        "}, ARRAY_FILTER_USE_KEY);\n"
        "function main(array $args) : array\n"
        "{\n"
        "    return ['load' => $GLOBALS['AT_LOAD'], 'args' => $args];\n"
        "}\n",
        {},
    ),
}


@pytest.mark.parametrize("kind", list(LOADERS))
async def test_the_code_sees_its_environment_while_it_loads(client: Client, kind: str) -> None:
    code, extra = LOADERS[kind]
    # Not a string: the environment gets it as OpenWhisk prints it, compact JSON
    # (WhiskAction.containerInitializer).
    secret = ["s3", 1, {"b": None}]
    params = [{"key": "SECRET", "value": secret, "init": True}, *kv(plain=1)]
    status, created = await client.request(
        "PUT",
        "actions/probe",
        json={
            "exec": {"kind": kind, "code": code, **extra},
            "parameters": params,
            "annotations": kv(**{"provide-api-key": True}),
            "limits": {"timeout": TIMEOUT_MS},
        },
        params={"overwrite": "true"},
    )
    assert status == 200, created
    assert isinstance(created, dict) and created["parameters"] == params
    status, got = await client.request("GET", "actions/probe")
    assert status == 200 and isinstance(got, dict) and got["parameters"] == params

    status, record = await client.invoke("probe", {"given": "x"})
    assert status == 200, record
    assert isinstance(record, dict)
    result = record["response"]["result"]
    load = result["load"]
    expected = {
        "__OW_API_HOST": "http://127.0.0.1:3233",
        "__OW_API_KEY": client.key,
        "__OW_NAMESPACE": client.namespace,
        "__OW_ACTION_NAME": f"/{client.namespace}/probe",
        "__OW_ACTION_VERSION": record["version"],
        "__OW_ACTIVATION_ID": record["activationId"],
        "__OW_TRANSACTION_ID": record["activationId"],
        "SECRET": '["s3",1,{"b":null}]',
    }
    assert {k: load.get(k) for k in expected} == expected, load
    # The deadline is the activation's start plus its time limit.
    assert int(load["__OW_DEADLINE"]) == record["start"] + TIMEOUT_MS
    # The init parameter reaches the environment only, never main.
    assert result["args"] == {"plain": 1, "given": "x"}


async def test_without_the_key_init_has_no_key(client: Client) -> None:
    code, _ = LOADERS["python:3.11"]
    status, body = await client.put_action("probe", code)
    assert status == 200, body
    status, result = await client.invoke("probe", result=True)
    assert status == 200 and isinstance(result, dict)
    assert "__OW_API_KEY" not in result["load"]
    assert set(result["load"]) == set(OW_KEYS) - {"__OW_API_KEY"}


@pytest.mark.parametrize("kind", list(LOADERS))
async def test_init_parameters_of_a_package_and_its_binding_reach_init(
    client: Client, kind: str
) -> None:
    """OpenWhisk merges the package's (and binding's) parameters into the action's,
    each keeping its ``init`` flag (``WhiskActionMetaData.inherit``), and sends the
    merged ``initParameters`` as the activation's ``initArgs`` (PrimitiveActions.scala)."""
    code, extra = LOADERS[kind]
    ns = client.namespace
    package = [{"key": "SECRET", "value": "from-package", "init": True}, *kv(plain=1)]
    status, body = await client.request(
        "PUT", "packages/tools", json={"parameters": package}, params={"overwrite": "true"}
    )
    assert status == 200, body

    async def put_probe() -> None:
        # A new revision each time: /init runs once per container, and a warm
        # container of the last revision keeps the environment it started with.
        status, body = await client.request(
            "PUT",
            "actions/tools/probe",
            json={
                "exec": {"kind": kind, "code": code, **extra},
                "limits": {"timeout": TIMEOUT_MS},
            },
            params={"overwrite": "true"},
        )
        assert status == 200, body

    await put_probe()
    status, got = await client.request("GET", "actions/tools/probe")
    assert status == 200 and isinstance(got, dict)
    assert {"key": "SECRET", "value": "from-package", "init": True} in got["parameters"]

    status, record = await client.invoke("tools/probe", {"given": "x"})
    assert status == 200, record
    assert isinstance(record, dict)
    result = record["response"]["result"]
    assert result["load"].get("SECRET") == "from-package", result["load"]
    assert result["args"] == {"plain": 1, "given": "x"}

    # A binding's own value wins, and keeps the flag it is given.
    binding = [{"key": "SECRET", "value": "from-binding", "init": True}]
    status, body = await client.request(
        "PUT",
        "packages/mytools",
        json={"binding": {"namespace": ns, "name": "tools"}, "parameters": binding},
        params={"overwrite": "true"},
    )
    assert status == 200, body
    await put_probe()
    status, record = await client.invoke("mytools/probe", {"given": "y"})
    assert status == 200, record
    assert isinstance(record, dict)
    result = record["response"]["result"]
    assert result["load"].get("SECRET") == "from-binding", result["load"]
    assert result["args"] == {"plain": 1, "given": "y"}

    # Redefined by the binding without the flag, it is an ordinary argument again.
    status, body = await client.request(
        "PUT",
        "packages/plaintools",
        json={"binding": {"namespace": ns, "name": "tools"}, "parameters": kv(SECRET="plain")},
        params={"overwrite": "true"},
    )
    assert status == 200, body
    await put_probe()
    status, record = await client.invoke("plaintools/probe")
    assert status == 200, record
    assert isinstance(record, dict)
    result = record["response"]["result"]
    assert "SECRET" not in result["load"], result["load"]
    assert result["args"] == {"plain": 1, "SECRET": "plain"}
