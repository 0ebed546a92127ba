"""Appends: an event is acknowledged only once the appends it caused succeeded."""

from __future__ import annotations

import asyncio

import pytest

from streams.app import Appends
from streams.errors import LedgerUnavailable


class Event:
    def __init__(self) -> None:
        self.acked = 0

    def ack(self) -> None:
        self.acked += 1


async def test_an_event_is_acked_after_its_appends() -> None:
    appends = Appends()
    event = Event()
    gate = asyncio.Event()

    async def work() -> None:
        await gate.wait()

    appends.ack_after(event, work())
    await asyncio.sleep(0)
    assert event.acked == 0
    gate.set()
    await appends.drain()
    await asyncio.sleep(0)
    assert event.acked == 1


async def test_appends_start_in_the_order_they_were_decided() -> None:
    appends = Appends()
    order: list[int] = []

    async def work(i: int) -> None:
        order.append(i)
        await asyncio.sleep(0)

    for i in range(5):
        appends.ack_after(Event(), work(i))
    await appends.drain()
    assert order == [0, 1, 2, 3, 4]


async def test_a_failed_append_leaves_its_event_unacked_and_is_raised_next() -> None:
    appends = Appends()
    event = Event()

    async def fails() -> None:
        raise RuntimeError("broker gone")

    appends.ack_after(event, fails())
    await appends.drain()
    await asyncio.sleep(0)
    assert event.acked == 0
    with pytest.raises(LedgerUnavailable, match="broker gone"):
        appends.ack_after(Event(), asyncio.sleep(0))
    appends.check()  # raised once, then clear
