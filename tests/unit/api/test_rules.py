"""A rule's PUT body (its trigger and action names, their entitlement) and its status POST."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import pytest

from api.auth import Identity
from api.context import Context
from api.entities import PACKAGE
from api.errors import APIError
from api.names import EntityRef
from api.rules import check_entitled, referenced, requested_status
from tests.unit.api.entities_in_memory import EntitiesInMemory

NS = "guest"
IDENTITY = Identity(subject="guest", namespace=NS, uuid="u", key="k")
MALFORMED = "The request content was malformed:\n"
NOT_QUALIFIED = (
    "requirement failed: The fully qualified name of the entity must contain at least the "
    "namespace and the name of the entity."
)


def refused(body: dict[str, Any]) -> APIError:
    with pytest.raises(APIError) as caught:
        requested_status(body)
    return caught.value


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"status": "xxx"}, "requirement failed: xxx is not a recognized rule state"),
        ({"status": " paused "}, "requirement failed: paused is not a recognized rule state"),
        ({}, "key not found: status"),
        ({"status": None}, "null (of class spray.json.JsNull$)"),
        ({"status": 5}, "5 (of class spray.json.JsNumber)"),
        ({"status": True}, "true (of class spray.json.JsTrue$)"),
        ({"status": ["active"]}, '["active"] (of class spray.json.JsArray)'),
        ({"status": "  "}, "requirement failed: argument undefined"),
    ],
)
def test_status_texts_are_openwhisks(body: dict[str, Any], detail: str) -> None:
    error = refused(body)
    assert (error.status, error.message) == (400, MALFORMED + detail)
    assert "None" not in error.message and "'" not in error.message


def test_a_padded_status_is_trimmed() -> None:
    assert requested_status({"status": " active "}) == "active"
    assert requested_status({"status": "inactive\n"}) == "inactive"


def test_trigger_and_action_are_read_as_fully_qualified_names() -> None:
    refs = referenced(
        {
            "trigger": {"path": NS, "name": "t"},
            "action": {"path": f"{NS}/pkg", "name": "a"},
        },
        NS,
    )
    assert refs == {"trigger": EntityRef(NS, "t"), "action": EntityRef(NS, "a", "pkg")}
    # A string's first segment is the namespace, with or without a leading slash.
    refs = referenced({"trigger": "_/t", "action": "other/pkg/a"}, NS)
    assert refs == {"trigger": EntityRef(NS, "t"), "action": EntityRef("other", "a", "pkg")}
    refs = referenced({"action": "/other/pkg/a"}, NS)
    assert refs == {"action": EntityRef("other", "a", "pkg")}


@pytest.mark.parametrize("body", [{"trigger": "t", "action": "/_/a"}, {"action": "a"}])
def test_a_name_without_namespace_is_refused(body: dict[str, Any]) -> None:
    with pytest.raises(APIError) as caught:
        referenced(body, NS)
    assert (caught.value.status, caught.value.message) == (400, MALFORMED + NOT_QUALIFIED)


def test_a_name_that_is_no_name_is_malformed() -> None:
    with pytest.raises(APIError) as caught:
        referenced({"trigger": 5}, NS)
    assert caught.value.message == MALFORMED + "fully qualified name malformed"


@dataclass
class FakeContext:
    entities: EntitiesInMemory


def package(namespace: str, name: str, *, publish: bool) -> dict[str, Any]:
    return {
        "_id": f"{namespace}/{name}",
        "entityType": PACKAGE,
        "namespace": namespace,
        "name": name,
        "publish": publish,
    }


CONTEXT = cast(
    Context,
    FakeContext(
        EntitiesInMemory(
            {
                "whisk.system/utils": package("whisk.system", "utils", publish=True),
                "whisk.system/private": package("whisk.system", "private", publish=False),
            }
        )
    ),
)


async def forbidden(refs: dict[str, EntityRef]) -> str:
    with pytest.raises(APIError) as caught:
        await check_entitled(CONTEXT, IDENTITY, refs)
    assert caught.value.status == 403
    return caught.value.message


async def test_entitlement_names_every_refused_reference() -> None:
    # Entitled without looking anything up in the caller's namespace: existence comes later.
    await check_entitled(
        CONTEXT, IDENTITY, {"trigger": EntityRef(NS, "nosuch"), "action": EntityRef(NS, "no")}
    )
    await check_entitled(CONTEXT, IDENTITY, {"action": EntityRef("whisk.system", "echo", "utils")})
    message = await forbidden(
        {"trigger": EntityRef(NS, "nosuch"), "action": EntityRef("whisk.system", "secret")}
    )
    assert message == (
        "The supplied authentication is not authorized to access 'whisk.system/secret'."
    )
    message = await forbidden(
        {
            "trigger": EntityRef("whisk.system", "t"),
            "action": EntityRef("whisk.system", "a", "private"),
        }
    )
    assert message == (
        "The supplied authentication is not authorized to access "
        "'whisk.system/private/a, whisk.system/t'."
    )
    message = await forbidden({"action": EntityRef("nosuchns", "a", "nopkg")})
    assert message.endswith("'nosuchns/nopkg/a'.")
