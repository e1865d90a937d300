"""The payment event publisher sends PutEvents' refused entries again (the chaos run found
payment events lost to partial failures, left for the reconciliation to republish)."""

from __future__ import annotations

from typing import Any

from functions.adapters.payment_events import ATTEMPTS, EventBridgePublisher


class PartlyRefusing:
    """PutEvents that refuses the entries whose detail names a refused id, ``refusals`` times."""

    def __init__(self, refused: set[str], refusals: int) -> None:
        self.refused = refused
        self.refusals = refusals
        self.calls: list[list[str]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        ids = [entry["Detail"] for entry in Entries]
        self.calls.append(ids)
        refusing = self.refusals > 0
        self.refusals -= 1
        results = [
            {"ErrorCode": "InternalFailure", "ErrorMessage": "x"}
            if refusing and any(r in detail for r in self.refused)
            else {"EventId": detail}
            for detail in ids
        ]
        return {
            "FailedEntryCount": sum(1 for r in results if "ErrorCode" in r),
            "Entries": results,
        }


def entries(count: int) -> list[dict[str, Any]]:
    return [
        {"Source": "blueprint.payments", "DetailType": "payment.captured", "Detail": {"n": f"e{n}"}}
        for n in range(count)
    ]


def test_only_the_refused_entries_are_sent_again() -> None:
    events = PartlyRefusing({"e1", "e3"}, refusals=1)
    assert EventBridgePublisher(events).publish(entries(4)) == 0  # type: ignore[arg-type]
    assert len(events.calls) == 2
    assert events.calls[1] == ['{"n": "e1"}', '{"n": "e3"}']


def test_entries_refused_every_time_are_counted_after_the_last_attempt() -> None:
    events = PartlyRefusing({"e0"}, refusals=ATTEMPTS)
    assert EventBridgePublisher(events).publish(entries(2)) == 1  # type: ignore[arg-type]
    assert len(events.calls) == ATTEMPTS


def test_more_than_ten_entries_go_in_batches_of_ten() -> None:
    events = PartlyRefusing(set(), refusals=0)
    assert EventBridgePublisher(events).publish(entries(23)) == 0  # type: ignore[arg-type]
    assert [len(call) for call in events.calls] == [10, 10, 3]
