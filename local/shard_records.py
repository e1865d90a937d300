"""Reading a moto Kinesis shard from a checkpoint without walking its whole history.

moto keeps every record ever put on a shard in one ordered dict keyed by sequence number and
never trims it. The two local readers of a stream (the Lambda event-source poller and the
Firehose poller) used to filter that dict for the records after their checkpoint on every poll,
so each poll cost O(records ever put): over a ``make chaos`` run that walk was a tenth of the
emulator's CPU and grew with the run. moto numbers a shard's records one by one
(``Shard.put_record``: the last number plus one), so the records after a checkpoint are found by
key, one dict lookup each, in O(new records).
"""

from __future__ import annotations

from typing import Any


def records_after(records: dict[int, Any], checkpoint: int, limit: int | None = None) -> list[Any]:
    """The records numbered above ``checkpoint``, in order, at most ``limit`` of them.

    Safe while another thread puts records: each lookup is one atomic dict read, and a record put
    during the call is either returned or left for the next one."""
    found: list[Any] = []
    number = checkpoint + 1
    while True:
        while limit is None or len(found) < limit:
            record = records.get(number)
            if record is None:
                break
            found.append(record)
            number += 1
        if limit is not None and len(found) >= limit:
            return found
        last = last_number(records)
        if last is None or last < number:
            return found
        if records.get(number) is None:
            break
        # Put between the lookup and the last number: read on by key.
    # A gap in the numbering: not how moto numbers a shard today, so the old full walk keeps the
    # answer right if a later moto (or a reshard) numbers otherwise.
    rest = [record for seq, record in _items(records) if seq >= number]
    return (found + rest)[:limit]


def _items(records: dict[int, Any]) -> list[tuple[int, Any]]:
    for _ in range(3):
        try:
            return list(records.items())
        except RuntimeError:  # an OrderedDict put to while it was copied
            continue
    return [(seq, records[seq]) for seq in sorted(records.copy())]


def last_number(records: dict[int, Any]) -> int | None:
    """The highest sequence number on the shard (its last key), None when it has no record."""
    for _ in range(3):
        try:
            return next(reversed(records.keys()), None)
        except RuntimeError:  # another thread put a record between reversed() and next()
            continue
    return max((seq for seq, _ in _items(records)), default=None)
