"""Reading the past in time order: the k-way merge of partitions by Kafka timestamp."""

from __future__ import annotations

import random

from streams.history import LogRecord, TimeMerge


def rec(partition: int, offset: int, at_ms: int) -> LogRecord:
    return LogRecord(partition, offset, at_ms, None, b"")


def where(records: list[LogRecord]) -> list[tuple[int, int]]:
    return [(r.partition, r.offset) for r in records]


def test_a_record_waits_while_a_partition_still_read_may_hold_an_older_one() -> None:
    merge = TimeMerge({0, 1})
    merge.add([rec(0, 0, 5), rec(0, 1, 9)])
    assert merge.take({0, 1}) == []  # partition 1 may still deliver something before t=5
    merge.add([rec(1, 0, 7)])
    assert where(merge.take({0, 1})) == [(0, 0), (1, 0)]
    assert merge.buffered(0) == 1 and merge.buffered(1) == 0
    # Partition 1 reached its stop: what is buffered goes out.
    assert where(merge.take({0})) == [(0, 1)]


def test_ties_go_by_partition_then_offset_and_finished_partitions_drain() -> None:
    merge = TimeMerge({0, 1, 2})
    merge.add([rec(2, 0, 1), rec(1, 0, 1), rec(1, 1, 1), rec(0, 4, 3)])
    assert where(merge.take(set())) == [(1, 0), (1, 1), (2, 0), (0, 4)]


def test_a_partition_keeps_its_log_order_when_its_clock_steps_back() -> None:
    merge = TimeMerge({0, 1})
    # Partition 0 logged t=10 then t=6 (two producers' clocks): 6 counts as 10.
    merge.add([rec(0, 0, 10), rec(0, 1, 6), rec(1, 0, 8), rec(1, 1, 12)])
    assert where(merge.take(set())) == [(1, 0), (0, 0), (0, 1), (1, 1)]


def test_any_split_into_batches_gives_one_time_order() -> None:
    rng = random.Random(7)
    logs = {p: sorted(rng.sample(range(1000), 50)) for p in range(4)}
    every = [rec(p, o, t) for p, times in logs.items() for o, t in enumerate(times)]
    expected = sorted(every, key=lambda r: (r.timestamp_ms, r.partition, r.offset))
    merge = TimeMerge(set(logs))
    cursors = dict.fromkeys(logs, 0)
    out: list[LogRecord] = []
    while any(cursors[p] < len(logs[p]) for p in logs):
        p = rng.choice([p for p in logs if cursors[p] < len(logs[p])])
        n = rng.randint(1, 9)
        merge.add([rec(p, o, logs[p][o]) for o in range(cursors[p], min(cursors[p] + n, 50))])
        cursors[p] = min(cursors[p] + n, 50)
        out.extend(merge.take({q for q in logs if cursors[q] < len(logs[q])}))
    out.extend(merge.take(set()))
    assert where(out) == where(expected)
