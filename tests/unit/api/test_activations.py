"""The activation list's query and the id check, in OpenWhisk's words (pure parts)."""

from __future__ import annotations

import pytest
from multidict import MultiDict

from api.activations import ListQuery, check_activation_id
from api.errors import APIError
from api.listing import java_integer

ID = "01a2308cdee91516bba89b63820359ba"


def parse(**query: str) -> ListQuery:
    return ListQuery.parse(MultiDict(query))


def refusal(**query: str) -> str:
    with pytest.raises(APIError) as refused:
        parse(**query)
    assert refused.value.status == 400
    return refused.value.message


def test_numbers_take_a_sign_as_javas_parse_int_and_parse_long_do() -> None:
    got = parse(limit="+5", skip="+2", since="-5", upto="+7")
    assert (got.limit, got.skip, got.since, got.upto) == (5, 2, -5, 7)
    assert parse(since=str(2**63 - 1)).since == 2**63 - 1


def test_what_openwhisk_refuses_stays_refused() -> None:
    assert "'-5' is not in the range of 0 to 200" in refusal(limit="-5")
    assert "'-1' is not greater than or equal to 0" in refusal(skip="-1")
    assert "'++5' is not an integer" in refusal(limit="++5")
    assert "'+' is not an integer" in refusal(skip="+")
    for bad in (str(2**63), "1.5", "", "+-5", "abc"):
        assert refusal(since=bad).endswith(f"epoch seconds: {bad}")
    assert java_integer("+5") == "5" and java_integer("+x") == "+x" and java_integer(None) is None


def test_since_after_upto_is_an_empty_range() -> None:
    assert parse(since="20", upto="10").empty
    assert not parse(since="10", upto="10").empty
    assert not parse(since="10").empty and not parse(upto="10").empty


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (ID[:31], "Activation id length is 31 but must be 32."),
        (ID + "0", "Activation id length is 33 but must be 32."),
        ("", "Activation id length is 0 but must be 32."),
        # An emoji is two UTF-16 units, as Java's String.length counts: 32, then not hex.
        (ID[:30] + "\U0001f600", "The activation id is not valid."),
        (ID[:31] + "z", "The activation id is not valid."),
        (ID.upper(), "The activation id is not valid."),
    ],
)
def test_an_activation_id_is_checked_for_its_length_first(given: str, message: str) -> None:
    with pytest.raises(APIError) as refused:
        check_activation_id(given)
    assert (refused.value.status, refused.value.message) == (400, message)


def test_a_well_formed_id_passes() -> None:
    check_activation_id(ID)
