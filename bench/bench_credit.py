"""BNPL credit: the decision's in-process latency, the scorecard's quality against the
rules-only baseline (retrained from its seed, as ``make train-credit`` does), the schedule
properties over 100,000 seeded random plans, and what a BNPL checkout and one collection use on
the emulator's meter (``bnpl_checkout_*``: one ``POST /v1/payments`` with a ``pay_in_4`` plan;
``bnpl_collection_*``: a collections run divided by the instalments it charged), which the cost
model (bench/cost) prices per million BNPL payments.

The decisions are a seeded mix of applications scored by the shipped artefact: approved,
reduced by affordability or a limit, declined by policy or by the score, so the bisection that
finds a reduced amount is timed too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import time
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bench.cost.usage import BNPL_UNITS
from functions.domain.credit import profile as p
from functions.domain.credit.policy import (
    Application,
    CreditDecider,
    CreditPolicy,
    CurrencyLimits,
    Exposure,
)
from functions.domain.credit.schedule import PLAN_TERMS, Plan, build_schedule, schedule_errors
from functions.domain.credit.scorecard import Scorecard
from functions.domain.fx import EurRates

# Meters on the emulator: bench.run starts one for every benchmark that does.
USES_EMULATOR = True

SCHEDULES = 100_000
DECISIONS = 20_000
WARM_UP = 1_000
SEED = 13
TODAY = dt.date(2026, 12, 1)
POLICY = CreditPolicy(
    {
        currency: CurrencyLimits(
            min_amount=1_000,
            max_amount=300_000,
            customer_limit=200_000,
            merchant_limit=50_000_000,
            living_costs_buffer=80_000,
        )
        for currency in ("EUR", "GBP")
    },
    EurRates({"GBP": Decimal("1.17")}),
)


def _pick(rng: random.Random, kind: type[StrEnum]) -> str:
    return str(rng.choice(list(kind)).value)


def applications(rng: random.Random, count: int) -> list[tuple[Application, Exposure]]:
    cases = []
    for i in range(count):
        declared = p.DeclaredProfile(
            **{name: _pick(rng, kind) for name, kind in p._ENUM_FIELDS.items()}  # type: ignore[arg-type]
        )
        application = Application(
            customer_id=f"cus_{i}",
            merchant_id="m_1",
            date_of_birth=dt.date(rng.randint(1940, 2010), rng.randint(1, 12), rng.randint(1, 28)),
            amount=rng.randint(500, 400_000),
            currency=rng.choice(("EUR", "GBP")),
            plan=rng.choice(list(Plan)),
            monthly_income=rng.randint(50_000, 600_000),
            monthly_commitments=rng.randint(0, 300_000),
            profile=declared,
        )
        exposure = Exposure(
            outstanding=rng.choice((0, 0, rng.randint(0, 250_000))),
            monthly_repayments=rng.choice((0, rng.randint(0, 50_000))),
            days_past_due=rng.choice((0,) * 19 + (rng.randint(1, 90),)),
        )
        cases.append((application, exposure))
    return cases


def decision_latency() -> dict[str, dict[str, float | str]]:
    decider = CreditDecider(POLICY, Scorecard.load())
    rng = random.Random(SEED)  # noqa: S311 (seeded: the same mix every run)
    today = dt.date(2026, 12, 1)
    merchant = Exposure(outstanding=1_000_000)
    cases = applications(rng, WARM_UP + DECISIONS)
    outcomes: dict[str, int] = {}
    timings = []
    for n, (application, customer) in enumerate(cases):
        started = time.perf_counter()
        decision = decider.decide(application, customer, merchant, today)
        elapsed = time.perf_counter() - started
        if n >= WARM_UP:
            timings.append(elapsed * 1000)
            outcomes[decision.outcome] = outcomes.get(decision.outcome, 0) + 1
    timings.sort()
    print(f"  outcomes over {DECISIONS:,} decisions: {outcomes}", flush=True)
    return {
        "credit_decision_ms_p50": {"value": round(timings[len(timings) // 2], 4), "unit": "ms"},
        "credit_decision_ms_p99": {
            "value": round(timings[int(len(timings) * 0.99)], 4),
            "unit": "ms",
        },
    }


def schedule_properties() -> dict[str, dict[str, float | str]]:
    rng = random.Random(SEED)  # noqa: S311 (seeded: the same mix every run)
    sum_errors = property_errors = 0
    start = dt.date(2000, 1, 1).toordinal()
    for _ in range(SCHEDULES):
        plan = rng.choice(list(Plan))
        count = PLAN_TERMS[plan].count
        total = rng.choice(
            (rng.randint(count, count * 3), rng.randint(count, 10**7), rng.randint(count, 10**12))
        )
        checkout = dt.date.fromordinal(start + rng.randint(0, 36_500))
        schedule = build_schedule(plan, total, rng.choice(("EUR", "JPY", "KWD")), checkout)
        errors = schedule_errors(schedule)
        sum_errors += "sum" in errors
        property_errors += bool(errors) or schedule.instalments[0].due_date != checkout
    return {
        "bnpl_schedule_sum_errors": {"value": sum_errors, "unit": "schedules"},
        "bnpl_schedule_property_errors": {"value": property_errors, "unit": "schedules"},
        "bnpl_schedules_checked": {"value": SCHEDULES, "unit": "schedules"},
    }


def model_quality() -> dict[str, dict[str, float | str]]:
    from ml import credit  # scikit-learn: only when the bench runs

    evaluation = credit.train().evaluation
    return {
        "credit_model_auc": {"value": round(evaluation.model.auc, 4), "unit": "AUC"},
        "credit_model_gini": {"value": round(evaluation.model.gini, 4), "unit": "Gini"},
        "credit_model_ks": {"value": round(evaluation.model.ks, 4), "unit": "KS"},
        "credit_baseline_auc": {"value": round(evaluation.baseline.auc, 4), "unit": "AUC"},
    }


def run() -> dict[str, dict[str, float | str]]:
    return {
        **decision_latency(),
        **schedule_properties(),
        **storage_units(),
        **model_quality(),
        **metered_on_the_emulator(),
    }


# ------------------------------------------------------------- metered on the emulator

BNPL_MERCHANT = "m_bench_bnpl"
METERED_PLAN = Plan.PAY_IN_4
# Plans opened on one day: their second instalments fall due together, and one collections
# run charges them all, as the daily schedule does.
COLLECTED_PLANS = 5
# What the cost model prices, per BNPL checkout and per instalment collected.
METERED_UNITS = BNPL_UNITS


def window_units(used: dict[str, Any], functions: frozenset[str]) -> dict[str, float]:
    """One meter window's units; Lambda only for ``functions`` (the operation's own path: an
    event source mapping polling beside it is not the operation's)."""
    counts = used["counts"]
    return {
        "api_requests": counts.get("api_requests", 0),
        "step_functions_express_executions": counts.get("step_functions_express_executions", 0),
        "step_functions_express_billed_ms": used["step_functions_express_billed_ms"],
        "state_transitions": counts.get("state_transitions", 0),
        "lambda_invocations": sum(counts.get(f"data:lambda:{f}", 0) for f in functions),
        "lambda_gb_seconds": round(
            sum(used.get(f"lambda_gb_seconds:{f}", 0.0) for f in functions), 6
        ),
        "dynamodb_write_units": used["dynamodb_write_units"],
        "dynamodb_read_units": used["dynamodb_read_units"],
        "kms_calls": sum(v for k, v in counts.items() if k.startswith("api:kms:")),
        "events_published": counts.get("events_published", 0),
        "log_bytes": used["log_bytes"],
    }


def metered_figures(
    checkout: dict[str, float], collection: dict[str, float], collected: int
) -> dict[str, dict[str, float | str]]:
    if collected < 1:
        raise RuntimeError("the metered collections run charged nothing")
    figures: dict[str, dict[str, float | str]] = {
        f"bnpl_checkout_{name}": {"value": checkout[name], "unit": "per BNPL checkout"}
        for name in METERED_UNITS
    }
    figures.update(
        {
            f"bnpl_collection_{name}": {
                "value": round(collection[name] / collected, 6),
                "unit": "per instalment collected",
            }
            for name in METERED_UNITS
        }
    )
    # From the plan's own schedule: every instalment after the one paid at checkout.
    schedule = build_schedule(METERED_PLAN, 10_000, "EUR", TODAY)
    figures["bnpl_collections_per_payment"] = {
        "value": len(schedule.instalments) - 1,
        "unit": f"collections ({METERED_PLAN.value})",
    }
    return figures


def metered_on_the_emulator() -> dict[str, dict[str, float | str]]:
    from local import cli
    from local.aws import emulator_env

    endpoints = cli.Endpoints.from_environ()
    started_here = not (cli.running_pid() and cli.healthy(endpoints))
    try:
        outputs = (
            cli.cmd_up(endpoints)
            if started_here
            else cli.terraform_outputs(cli.LOCAL_ENV_DIR, emulator_env(endpoints.aws))
        )
        return meter_checkout_and_collection(endpoints, outputs)
    finally:
        if started_here:
            cli.stop_emulator()


def merchant_client(endpoints: Any, outputs: dict[str, object]) -> Any:
    """The bench merchant's integration: onboarded in the registry, with a secret API key."""
    from local.api_client import ApiClient, onboard

    issued = onboard(endpoints.aws, outputs, BNPL_MERCHANT)
    return ApiClient.for_merchant(endpoints.api, issued, str(outputs["api_name"]))


def meter_checkout_and_collection(
    endpoints: Any, outputs: dict[str, object]
) -> dict[str, dict[str, float | str]]:
    import json
    import uuid

    from bench.bench_payments import meter
    from local.aws import emulator_client
    from local.bnpl_collections import collect
    from tests.unit.credit.test_bnpl_checkout import payment as unit_payment

    api = merchant_client(endpoints, outputs)
    credit = outputs["credit"]
    assert isinstance(credit, dict)
    bnpl_function = str(credit["bnpl_function_name"])
    definition = json.loads(
        emulator_client("stepfunctions", endpoints.aws).describe_state_machine(
            stateMachineArn=str(outputs["payment_state_machine_arn"])
        )["definition"]
    )
    # The checkout's path: the API function and the functions of the workflow's BNPL states.
    path = frozenset(
        {str(outputs["payments_api_function_name"])}
        | {
            str(definition["States"][state]["Parameters"]["FunctionName"]).rsplit(":", 1)[-1]
            for state in ("Bnpl", "BnplCheckout")
        }
    )
    token = api.post("/v1/tokens", {"number": "4242424242424242", "customer_id": "cus_bench"})
    if token.status != 201:
        raise RuntimeError(f"bench token refused: {token.status} {token.body}")
    applicant = unit_payment()["payment_method"]["applicant"]

    def checkout(n: int) -> dict[str, Any]:
        request = {
            "merchant_id": BNPL_MERCHANT,
            "amount": 10_000,
            "currency": "EUR",
            "payment_method": {
                "type": "bnpl",
                "plan": METERED_PLAN.value,
                "token": token.body["token"],
                "applicant": applicant,
            },
            "customer": {"id": f"cus_bench_{uuid.uuid4().hex[:8]}_{n}", "country": "DE"},
        }
        answer = api.post("/v1/payments", request, idempotency_key=uuid.uuid4().hex)
        if answer.status != 201 or answer.body.get("status") != "captured":
            raise RuntimeError(f"bench BNPL checkout did not capture: {answer.body}")
        body: dict[str, Any] = answer.body
        return body

    checkout(0)  # warm: the functions' first invocations are not a checkout's cost
    meter(endpoints.api, reset=True)
    measured = checkout(1)
    checkout_units = window_units(meter(endpoints.api), path)
    for n in range(2, COLLECTED_PLANS):
        checkout(n)
    due = measured["bnpl"]["instalments"][1]["due_date"]
    meter(endpoints.api, reset=True)
    report = collect(emulator_client("lambda", endpoints.aws), bnpl_function, due)
    collection_units = window_units(meter(endpoints.api), frozenset({bnpl_function}))
    return metered_figures(checkout_units, collection_units, int(report["collected"]))


def _item_bytes(item: dict[str, Any]) -> int:
    """A DynamoDB item's billed size: attribute names plus values (UTF-8 strings, numbers at
    about one byte per two digits plus one), as DynamoDB documents its item size."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        if "S" in value:
            size += len(value["S"].encode())
        else:
            size += (len(value["N"].lstrip("-").replace(".", "")) + 1) // 2 + 1
    return size


def storage_units() -> dict[str, dict[str, float | str]]:
    """Write units per decision and per plan write, from the items the DynamoDB adapters write
    for the seeded mix (1 WCU per started KB, the plan's index entries included). The cost
    model's BNPL counts."""
    from functions.adapters.credit_tables import decision_item, plan_item
    from functions.contracts.credit import CreditDecisionRequest, PlanInstalment, PlanRecord
    from functions.services.credit_decisions import CreditDecisions
    from tests.unit.credit.fakes import FixedExposures, InMemoryDecisionStore

    rng = random.Random(SEED)  # noqa: S311 (seeded: the same mix every run)
    decisions = CreditDecisions(
        CreditDecider(POLICY, Scorecard.load()),
        InMemoryDecisionStore(),
        FixedExposures(),
        lambda: dt.datetime.combine(TODAY, dt.time(9), dt.UTC),
    )
    decision_units: list[int] = []
    plan_units: list[int] = []
    for n, (application, _) in enumerate(applications(rng, 2_000)):
        request = CreditDecisionRequest.model_validate(
            {
                "merchant_id": application.merchant_id,
                "amount": application.amount,
                "currency": application.currency,
                "plan": application.plan,
                "customer": {
                    "id": application.customer_id,
                    "date_of_birth": application.date_of_birth.isoformat(),
                },
                "finances": {
                    "monthly_net_income": application.monthly_income,
                    "monthly_commitments": application.monthly_commitments,
                },
                "profile": {
                    f.name: str(getattr(application.profile, f.name))
                    for f in dataclasses.fields(application.profile)
                },
            }
        )
        record = decisions.decide(request, f"key-{n}")
        decision_units.append(-(-_item_bytes(decision_item(record)) // 1024))
        if record.approved_amount:
            schedule = build_schedule(
                application.plan, record.approved_amount, application.currency, TODAY
            )
            plan = PlanRecord(
                id=f"pl_{'0' * 24}",
                decision_id=record.id,
                merchant_id=application.merchant_id,
                customer_id=application.customer_id,
                token="tok_" + "a" * 24,
                currency=application.currency,
                plan=application.plan,
                total=schedule.total,
                merchant_fee=0,
                created_at="2026-12-01T09:00:00.000+00:00",
                instalments=tuple(
                    PlanInstalment(number=i.number, due_date=i.due_date, amount=i.amount)
                    for i in schedule.instalments
                ),
            )
            item = plan_item(plan)
            # Each global index the item is in is written too, and billed to the table: the
            # customer and merchant indexes always, the due index while the plan is active
            # (all three project the whole item).
            indexes = 2 + ("collectable" in item)
            plan_units.append(-(-_item_bytes(item) // 1024) * (1 + indexes))
    return {
        "credit_decision_wcu_mean": {
            "value": round(sum(decision_units) / len(decision_units), 3),
            "unit": "WCU/decision",
        },
        "credit_decision_wcu_max": {"value": max(decision_units), "unit": "WCU/decision"},
        "bnpl_plan_write_wcu_mean": {
            "value": round(sum(plan_units) / len(plan_units), 3),
            "unit": "WCU/plan write",
        },
        "bnpl_plan_write_wcu_max": {"value": max(plan_units), "unit": "WCU/plan write"},
    }
