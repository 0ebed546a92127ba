"""feeds/firing.py: the signed fire header and what an answer means."""

from __future__ import annotations

import pytest

from feeds import firing
from feeds.firing import FeedFire, Outcome

FIRE = FeedFire("0" * 12 + "a" * 20, "0" * 12 + "b" * 20, "/whisk.system/alarms/alarm")


def test_a_signed_header_verifies_for_its_trigger_only() -> None:
    header = FIRE.header("system:key", "ns/t")
    assert firing.verified(header, "system:key", "ns/t") == FIRE
    assert firing.verified(header, "system:key", "ns/other") is None
    assert firing.verified(header, "another:key", "ns/t") is None


def test_a_changed_fire_id_breaks_the_proof() -> None:
    header = FIRE.header("system:key", "ns/t").replace("a" * 20, "c" * 20)
    assert firing.verified(header, "system:key", "ns/t") is None


@pytest.mark.parametrize(
    "value",
    ["", "fire=1", "fire=x; cause=y; feed=/f; proof=p", "nonsense; fire=" + "a" * 32],
)
def test_malformed_headers_are_refused(value: str) -> None:
    assert firing.verified(value, "k", "ns/t") is None


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (202, Outcome.ACCEPTED),
        (204, Outcome.ACCEPTED),
        (401, Outcome.ENDS),
        (403, Outcome.ENDS),
        (404, Outcome.ENDS),
        (408, Outcome.RETRY),
        (409, Outcome.RETRY),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (503, Outcome.RETRY),
    ],
)
def test_openwhisks_providers_end_on_4xx_but_408_409_429(status: int, outcome: Outcome) -> None:
    assert firing.outcome_of(status) is outcome


def test_back_off_doubles_up_to_a_cap() -> None:
    assert [firing.retry_delay_s(n) for n in (1, 2, 3, 4, 9)] == [1.0, 2.0, 4.0, 8.0, 30.0]
