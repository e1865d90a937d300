"""The payment steps' measurements (``domain.payment_metrics``): what the dashboard and the SLO
alarms count, and that no value of a payment can become a metric's name or dimension."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from functions.domain import payment_metrics as pm

STATUSES = st.sampled_from(
    ["authorized", "captured", "declined", "requires_action", "failed", "canceled", "refunded"]
)


def names(measurements: list[pm.Measurement]) -> list[str]:
    return [m.name for m in measurements]


@given(status=STATUSES, code=st.one_of(st.none(), st.text(max_size=40)))
def test_a_decided_payment_counts_once_under_one_outcome(status: str, code: str | None) -> None:
    outcomes = {
        pm.PAYMENTS_APPROVED,
        pm.PAYMENTS_DECLINED,
        pm.PAYMENTS_REQUIRES_ACTION,
        pm.PAYMENTS_FAILED,
    }

    counted = [m for m in pm.payment_decided(status, code) if m.name in outcomes]

    expected = {
        "authorized": pm.PAYMENTS_APPROVED,
        "captured": pm.PAYMENTS_APPROVED,
        "declined": pm.PAYMENTS_DECLINED,
        "requires_action": pm.PAYMENTS_REQUIRES_ACTION,
        "failed": pm.PAYMENTS_FAILED,
    }.get(status)
    assert names(counted) == ([expected] if expected else [])
    assert all(m.value == 1 and m.dimension is None for m in counted)


@given(code=st.one_of(st.none(), st.text(max_size=40)))
def test_declines_by_code_stay_within_the_known_codes(code: str | None) -> None:
    # Any code a connector relays becomes one of a fixed set: a new value is a new metric.
    (by_code,) = [m for m in pm.payment_decided("declined", code) if m.dimension]

    assert by_code.name == pm.DECLINES
    assert by_code.dimension is not None and by_code.dimension[0] == "decline_code"
    allowed = pm.KNOWN_DECLINE_CODES | {pm.OTHER_DECLINE_CODE}
    assert by_code.dimension[1] in allowed
    assert by_code.dimension[1] == (code if code in pm.KNOWN_DECLINE_CODES else "other")


def test_the_workflows_own_decline_codes_are_known() -> None:
    assert {"fraud_suspected", "authentication_failed", "insufficient_funds"} <= (
        pm.KNOWN_DECLINE_CODES
    )


@given(
    decision=st.sampled_from([None, "allow", "review", "block"]),
    challenged=st.booleans(),
    exemption=st.one_of(st.none(), st.sampled_from(["low_value", "tra", "recurring"])),
)
def test_an_assessment_counts_itself_and_only_what_happened(
    decision: str | None, challenged: bool, exemption: str | None
) -> None:
    measured = pm.payment_assessed(decision, challenged, exemption)

    assert names(measured)[0] == pm.ASSESSED
    assert (pm.FRAUD_BLOCKED in names(measured)) == (decision == "block")
    assert (pm.FRAUD_REVIEW in names(measured)) == (decision == "review")
    assert (pm.SCA_CHALLENGES in names(measured)) == challenged
    # A challenged payment applied no exemption, whatever was asked.
    assert (pm.SCA_EXEMPTIONS in names(measured)) == (bool(exemption) and not challenged)
    assert all(m.value == 1 and m.dimension is None for m in measured)


@given(ms=st.floats(min_value=-1e3, max_value=1e6, allow_nan=False))
def test_step_latency_is_never_negative_and_in_milliseconds(ms: float) -> None:
    latency = pm.step_latency(ms)

    assert latency.name == pm.STEP_LATENCY and latency.unit is pm.Unit.MILLISECONDS
    assert latency.value >= 0 and abs(latency.value - max(0.0, ms)) <= 0.05
