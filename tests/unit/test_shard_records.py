"""local.shard_records: the records after a checkpoint, read by key from a moto shard."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from moto.kinesis.models import Shard

from local.shard_records import last_number, records_after


def shard_with(count: int) -> Shard:
    shard = Shard(0, 0, 2**128)
    for n in range(count):
        shard.put_record(f"k{n}", f"d{n}", "")
    return shard


def numbers(records: list[Any]) -> list[int]:
    return [record.sequence_number for record in records]


@pytest.mark.parametrize(
    ("checkpoint", "limit", "expected"),
    [
        (0, None, [1, 2, 3, 4, 5]),
        (3, None, [4, 5]),
        (5, None, []),
        (9, None, []),
        (1, 2, [2, 3]),
        (4, 10, [5]),
    ],
)
def test_the_records_after_a_checkpoint_are_those_the_full_walk_finds(
    checkpoint: int, limit: int | None, expected: list[int]
) -> None:
    shard = shard_with(5)
    walked = [r for seq, r in shard.records.items() if seq > checkpoint][:limit]
    assert numbers(records_after(shard.records, checkpoint, limit)) == numbers(walked) == expected


def test_a_gap_in_the_numbering_falls_back_to_the_walk() -> None:
    shard = shard_with(6)
    del shard.records[3]
    assert numbers(records_after(shard.records, 1)) == [2, 4, 5, 6]
    assert numbers(records_after(shard.records, 2, 2)) == [4, 5]
    assert numbers(records_after(shard.records, 2)) == [4, 5, 6]


def test_the_last_number_of_an_empty_and_a_full_shard() -> None:
    assert last_number(shard_with(0).records) is None
    assert last_number(shard_with(7).records) == 7


def test_only_new_records_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    shard = shard_with(1000)
    looked_up: list[int] = []
    records = shard.records
    get = records.get

    class Counting(type(records)):  # type: ignore[misc]
        def get(self, key: int, default: Any = None) -> Any:
            looked_up.append(key)
            return get(key, default)

        def items(self) -> Any:
            raise AssertionError("walked the whole shard")

    counting = Counting(records)
    assert numbers(records_after(counting, 997)) == [998, 999, 1000]
    assert looked_up == [998, 999, 1000, 1001]


def test_a_reader_racing_producers_sees_every_record_once_and_in_order() -> None:
    shard = shard_with(0)
    lock = threading.Lock()  # moto's put_record is not safe for two producers at once
    done = threading.Event()

    def produce() -> None:
        for n in range(2000):
            with lock:
                shard.put_record(f"k{n}", f"d{n}", "")

    producers = [threading.Thread(target=produce) for _ in range(4)]
    for producer in producers:
        producer.start()
    read: list[int] = []
    checkpoint = 0
    while not done.is_set():
        if not any(p.is_alive() for p in producers):
            done.set()  # one more read after the last put
        batch = records_after(shard.records, checkpoint, 100)
        read += numbers(batch)
        if batch:
            checkpoint = batch[-1].sequence_number
    read += numbers(records_after(shard.records, checkpoint))
    assert read == list(range(1, 8001))
