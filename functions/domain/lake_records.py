"""What the lake's transformation step does to a record before Firehose converts it: defence
in depth behind the event contract, which already refuses any event holding a card number. If
one ever reaches the stream anyway (a producer that bypassed the contract), every Luhn-valid run
of 13-19 digits is replaced, so it lands neither in the lake nor, should the record then fail
conversion, under the errors prefix (Firehose writes a failed record's data there as it is)."""

from __future__ import annotations

from dataclasses import dataclass

from functions.domain.cards import card_number_spans

REDACTED = "[card number redacted]"


@dataclass(frozen=True)
class Redaction:
    text: str
    redacted: int


def redact_card_numbers(text: str) -> Redaction:
    spans = card_number_spans(text)
    if not spans:
        return Redaction(text, 0)
    parts, last = [], 0
    for start, end in spans:
        parts += [text[last:start], REDACTED]
        last = end
    parts.append(text[last:])
    return Redaction("".join(parts), len(spans))
