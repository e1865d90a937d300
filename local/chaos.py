"""``make chaos``: thousands of payments through the local API while the emulator faults a share
of every dependency call, then the invariants that must hold whatever failed.

The workload mixes what merchants send: sales, authorize-then-capture (partial), sales with a
partial refund, 3-D Secure challenges that are answered, BNPL checkouts (``pay_in_4`` on a card
token, half of them then refunded), and cards the acquirer simulator answers badly (timeouts,
processing errors, lost answers, captures that fail, slow answers, and authorizations answered
after the connector gave up). Each client does
what a real integration does: on a 5xx, a 409 (the same request still running) or no answer, it
sends the same request again with the same ``Idempotency-Key``, with backoff, for up to a
minute.

Faults (``local/faults.py``) hit only the workload: DynamoDB throttling, 500s and
``TransactionConflict``; KMS and Kinesis throttling; EventBridge ``PutEvents`` partial failures;
Lambda workers killed mid-invocation and invocations timed out. They are switched off before
the invariants are read, so the checks read the truth rather than more faults.

The invariants (any violation fails the run):

- every journal entry balanced, and the balances sum to zero per currency;
- per payment, the ledger's captured and refunded amounts equal what the API reports;
- per payment, the acquirer (the simulator's operation log) captured and refunded exactly what
  the API reports: nothing moved twice, nothing moved that the platform does not know of;
- no authorization the acquirer both voided and captured or refunded, in either order: money
  moved after the payment was compensated (reported failed or canceled), or a hold released
  after money moved. The simulator refuses the second of the two, as an acquirer does, so this
  reads its record for what got through;
- no idempotency key reached the acquirer again with other parameters (the simulator's request
  record holds every request, retries included, and cannot refuse such a reuse itself);
- every payment terminal or in a documented resumable state (``authorized``: capture or let
  the hold lapse; ``requires_action``: the challenge is open; ``capture_pending``: the
  reconciliation resolves it); never ``authorizing`` once the run is over and the sweeper ran;
- a request retried after a failure got the original answer: replaying each create's key
  afterwards answers the same payment the client was first told about;
- a BNPL payment is booked in the credit ledger, not the card ledger: its plan's entries
  balance, what the ledger says the customer's card paid and was given back equals what the
  plan's instalments show and what the acquirer captured and refunded under the plan (nothing
  charged twice), a refunded payment's plan is refunded, and the BNPL reconciliation over the
  run's window finds nothing. The BNPL charger's simulator writes to the same shared record as
  the payment workflow's (``functions/adapters/credit_wiring.py``), so the acquirer side is read
  as for card payments: a charged plan missing there is a violation too.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from functions.adapters.acquirer_requests import AcquirerRequestsTable
from functions.adapters.credit_tables import DynamoCreditLedgerStore
from functions.adapters.ledger_table import DynamoLedgerStore
from functions.adapters.payments_table import AcquirerOperationsTable, PaymentsTable
from functions.domain.acquirer import (
    TEST_CARDS,
    AcquirerOperation,
    AcquirerRequest,
    OperationKind,
    OperationStatus,
)
from functions.domain.cards import luhn_valid
from functions.domain.credit.ledger import ACQUIRER_RECEIVABLE, CreditEntry, credit_balances
from functions.domain.ledger import position, unbalanced_currencies
from functions.domain.payments import PaymentStatus
from functions.services.reconciliation import (
    STUCK_AFTER,
    HoldKind,
    PaymentRecords,
    instant,
)
from local import faults
from local.api_client import ApiClient, ApiResponse
from local.aws import emulator_client
from local.bnpl_demo import APPLICANT
from local.payments_demo import (
    ACS_PASSING_CODE,
    ANSWERS_LOST,
    CAPTURE_FAILS,
    payment_request,
    reconcile_since,
)

# Where a payment may rest when the run is over: terminal, or waiting for something documented.
SETTLED = frozenset(
    {
        PaymentStatus.CAPTURED,
        PaymentStatus.PARTIALLY_REFUNDED,
        PaymentStatus.REFUNDED,
        PaymentStatus.DECLINED,
        PaymentStatus.CANCELED,
        PaymentStatus.FAILED,
        PaymentStatus.AUTHORIZED,
        PaymentStatus.REQUIRES_ACTION,
        PaymentStatus.CAPTURE_PENDING,
    }
)
RETRY_FOR_S = 60.0
# Above the reconcile function's timeout (modules/payment_workflow: 300 s).
RECONCILE_WAIT_S = 330
# A reconciliation stops for time and answers where it got to; the check invokes it again from
# there, this many times at most (a 10,000-payment run's card reconciliation needs one or two
# on the emulator).
RECONCILE_RUNS = 5
REQUEST_TIMEOUT_S = 30.0
# The acquirer's bad days, by the simulator's test cards (docs/test-cards.md).
ACQUIRER_TROUBLE = (
    "4000000000000119",  # processing error on authorize
    "4000000000000408",  # authorize times out
    ANSWERS_LOST,  # capture and refund executed, their first answers lost
    CAPTURE_FAILS,  # authorized, then the capture fails: compensated by a void
    "4000000000007775",  # every answer slow, within the connector timeout
    "4000000000007783",  # authorized, answered after the timeout: voided by the authorize key
)
# (scenario, weight): what a day of traffic looks like, roughly.
SCENARIOS = (
    ("sale", 50),
    ("authorize_then_capture", 15),
    ("sale_then_partial_refund", 15),
    ("challenge", 10),
    ("acquirer_trouble", 10),
    ("bnpl", 8),
)
# Instalments a BNPL instalment's status says the customer's card paid (a refunded one was
# paid, then given back).
_PAID = frozenset({"collected", "refunded"})


def fault_plan(rate: float, seed: int) -> dict[str, Any]:
    """About ``rate`` of the workload's calls to each dependency faulted."""
    half = rate / 2

    def rule(service: str, fault: str, probability: float, operation: str = "*") -> dict[str, Any]:
        return {
            "service": service,
            "operation": operation,
            "fault": fault,
            "probability": probability,
        }

    return {
        "seed": seed,
        "rules": [
            rule("dynamodb", "transaction_conflict", half, "TransactWriteItems"),
            rule("dynamodb", "throttle", half),
            rule("dynamodb", "internal_error", half),
            rule("kms", "throttle", rate),
            rule("kinesis", "throttle", rate),
            rule("events", "partial_failure", rate, "PutEvents"),
            rule("lambda", "kill_worker", half, "Invoke"),
            rule("lambda", "timeout", half, "Invoke"),
        ],
    }


def set_faults(endpoint: str, plan: dict[str, Any] | None) -> dict[str, Any]:
    """PUT a plan (``None``: DELETE it); answers what the injector reports."""
    request = urllib.request.Request(  # noqa: S310 (the emulator's own http endpoint)
        f"{endpoint}{faults.PATH}",
        data=None if plan is None else json.dumps(plan).encode(),
        method="DELETE" if plan is None else "PUT",
    )
    with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310
        answered: dict[str, Any] = json.loads(reply.read() or b"{}")
    return answered


def fault_state(endpoint: str) -> dict[str, Any]:
    """What the injector reports: the plan in force and what it injected under it."""
    request = urllib.request.Request(f"{endpoint}{faults.PATH}", method="GET")  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310
        state: dict[str, Any] = json.loads(reply.read())
    return state


def injected(endpoint: str) -> dict[str, int]:
    return dict(fault_state(endpoint).get("injected", {}))


def fresh_card(rng: random.Random) -> str:
    """A Luhn-valid Visa number of this run alone, never one of the simulator's test cards."""
    while True:
        body = "4" + "".join(str(rng.randrange(10)) for _ in range(14))
        card = body + next(d for d in "0123456789" if luhn_valid(body + d))
        if card[-4:] not in TEST_CARDS:
            return card


@dataclass
class Sent:
    """One client request and what came of it."""

    key: str
    path: str
    body: Any
    first_answer: ApiResponse | None = None
    attempts: int = 0
    retried: bool = False
    # What each attempt got: a status, or "no answer".
    seen: list[str] = field(default_factory=list)


@dataclass
class ChaosReport:
    payments: int
    seconds: float
    fault_rate: float
    injected: dict[str, int]
    statuses: dict[str, int]
    retried_requests: int
    unanswered_requests: int
    unbalanced_entries: int
    currency_imbalance: dict[str, int]
    ledger_mismatches: list[str]
    double_moves: list[str]
    nonterminal: list[str]
    changed_answers: list[str]
    reconciliation: dict[str, Any] = field(default_factory=dict)
    # The answers of the reconciliation after the repair run and of the BNPL reconciliation,
    # kept whole (``cmd_chaos`` writes all three to .local/): what a failed check is read from.
    checked_again: dict[str, Any] = field(default_factory=dict)
    bnpl_reconciliation: dict[str, Any] = field(default_factory=dict)
    # What the reconciliation still finds after one repair run: a lost event or ledger posting
    # that the system does not heal by itself.
    unhealed: list[str] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)
    # What the acquirer received, by kind (retries included), and the keys it received again
    # with other parameters.
    acquirer_requests: dict[str, int] = field(default_factory=dict)
    resent_changed: list[str] = field(default_factory=list)
    # Payments whose authorization the acquirer both voided and captured or refunded.
    moved_after_void: list[str] = field(default_factory=list)
    # BNPL payments whose plan, credit ledger and acquirer record disagree (or whose plan's
    # entries do not balance), and what the BNPL reconciliation found over the run's window.
    bnpl_payments: int = 0
    bnpl_mismatches: list[str] = field(default_factory=list)
    bnpl_unreconciled: list[str] = field(default_factory=list)

    @property
    def violations(self) -> int:
        return (
            self.unbalanced_entries
            + len(self.currency_imbalance)
            + len(self.ledger_mismatches)
            + len(self.double_moves)
            + len(self.nonterminal)
            + len(self.changed_answers)
            + len(self.unhealed)
            + self.unanswered_requests
            + len(self.resent_changed)
            + len(self.moved_after_void)
            + len(self.bnpl_mismatches)
            + len(self.bnpl_unreconciled)
        )

    def figures(self) -> dict[str, dict[str, Any]]:
        """The benchmark names of issue 17."""
        return {
            "chaos_payments": {"value": self.payments, "unit": "payments"},
            "chaos_fault_rate": {"value": self.fault_rate, "unit": "ratio"},
            "chaos_faults_injected": {"value": sum(self.injected.values()), "unit": "faults"},
            "chaos_unbalanced_entries": {"value": self.unbalanced_entries, "unit": "entries"},
            "chaos_ledger_mismatches": {"value": len(self.ledger_mismatches), "unit": "payments"},
            "chaos_double_moves": {"value": len(self.double_moves), "unit": "payments"},
            "chaos_moved_after_void": {"value": len(self.moved_after_void), "unit": "payments"},
            "chaos_nonterminal": {"value": len(self.nonterminal), "unit": "payments"},
            "chaos_changed_answers": {"value": len(self.changed_answers), "unit": "requests"},
            "chaos_unanswered_requests": {"value": self.unanswered_requests, "unit": "requests"},
            "chaos_unhealed_after_repair": {"value": len(self.unhealed), "unit": "mismatches"},
            "chaos_acquirer_requests": {
                "value": sum(self.acquirer_requests.values()),
                "unit": "requests",
            },
            "chaos_acquirer_keys_resent_changed": {
                "value": len(self.resent_changed),
                "unit": "keys",
            },
            "chaos_bnpl_payments": {"value": self.bnpl_payments, "unit": "payments"},
            "chaos_bnpl_mismatches": {
                "value": len(self.bnpl_mismatches) + len(self.bnpl_unreconciled),
                "unit": "mismatches",
            },
            "chaos_payments_per_s": {
                "value": round(self.payments / self.seconds, 2) if self.seconds else 0.0,
                "unit": "payments/s",
            },
        }

    def print(self) -> None:
        print(
            f"\nChaos: {self.payments} payments in {self.seconds:.0f} s at fault rate "
            f"{self.fault_rate:.0%}; {sum(self.injected.values())} faults injected"
        )
        for name, count in sorted(self.injected.items()):
            print(f"  injected {name}: {count}")
        print(f"  statuses: {dict(sorted(self.statuses.items()))}")
        print(f"  acquirer requests received: {dict(sorted(self.acquirer_requests.items()))}")
        print(
            f"  requests retried by clients: {self.retried_requests}; "
            f"never answered: {self.unanswered_requests}"
        )
        found = Counter(m["kind"] for m in self.reconciliation.get("mismatches", []))
        print(
            f"  reconciliation: {self.reconciliation.get('checked_payments', 0)} checked, "
            f"mismatches before the repair run {dict(found)}, "
            f"{len(self.reconciliation.get('repaired', []))} repaired in "
            f"{self.reconciliation.get('runs', 0)} runs; checked again in "
            f"{self.checked_again.get('runs', 0)} runs; BNPL reconciliation: "
            f"{self.bnpl_reconciliation.get('checked_payments', 0)} checked in "
            f"{self.bnpl_reconciliation.get('runs', 0)} runs"
        )
        checks: tuple[tuple[str, int, list[str]], ...] = (
            ("unbalanced journal entries", self.unbalanced_entries, []),
            (
                "currencies whose balances do not sum to zero",
                len(self.currency_imbalance),
                [f"{c}: {v}" for c, v in self.currency_imbalance.items()],
            ),
            (
                "payments whose ledger differs from the API",
                len(self.ledger_mismatches),
                self.ledger_mismatches,
            ),
            (
                "payments the acquirer moved other than the API says",
                len(self.double_moves),
                self.double_moves,
            ),
            (
                "payments the acquirer both voided and captured or refunded",
                len(self.moved_after_void),
                self.moved_after_void,
            ),
            ("payments not terminal nor resumable", len(self.nonterminal), self.nonterminal),
            (
                "retried requests answered differently",
                len(self.changed_answers),
                self.changed_answers,
            ),
            (
                "requests never answered within a minute",
                self.unanswered_requests,
                self.unanswered,
            ),
            ("mismatches left after one repair run", len(self.unhealed), self.unhealed),
            (
                "acquirer keys received again with other parameters",
                len(self.resent_changed),
                self.resent_changed,
            ),
            (
                f"BNPL payments ({self.bnpl_payments}) whose plan, ledger and acquirer differ",
                len(self.bnpl_mismatches),
                self.bnpl_mismatches,
            ),
            (
                "BNPL reconciliation mismatches",
                len(self.bnpl_unreconciled),
                self.bnpl_unreconciled,
            ),
        )
        for label, count, detail in checks:
            print(f"  {'ok  ' if count == 0 else 'FAIL'} {label}: {count}")
            for line in detail[:10]:
                print(f"         {line}")
        print(f"\n{self.violations} violations")


class Client:
    """A merchant integration: retries what failed, with the same key, as integrations must."""

    def __init__(self, api: ApiClient, sleep: Callable[[float], None] = time.sleep) -> None:
        self._api = api
        self._sleep = sleep
        self.sent: list[Sent] = []

    def post(self, path: str, body: Any, key: str) -> ApiResponse | None:
        sent = Sent(key, path, body)
        self.sent.append(sent)
        deadline = time.monotonic() + RETRY_FOR_S
        delay = 0.5
        while True:
            sent.attempts += 1
            answer = self._attempt(path, body, key)
            sent.seen.append(_seen(answer))
            if answer is not None and answer.status < 500 and answer.status != 409:
                sent.first_answer = answer
                return answer
            if time.monotonic() + delay > deadline:
                return None
            sent.retried = True
            self._sleep(delay)
            delay = min(delay * 2, 8.0)

    def get(self, path: str) -> ApiResponse:
        return self._api.get(path)

    def _attempt(self, path: str, body: Any, key: str) -> ApiResponse | None:
        try:
            return self._api.post(path, body, idempotency_key=key)
        except (urllib.error.URLError, TimeoutError, ConnectionError, json.JSONDecodeError):
            return None


def _seen(answer: ApiResponse | None) -> str:
    if answer is None:
        return "no answer"
    body = answer.body if isinstance(answer.body, dict) else {}
    code = (body.get("error") or {}).get("code") if "error" in body else None
    return f"{answer.status} {code}" if code else str(answer.status)


def status_of(answer: ApiResponse | None) -> str | None:
    if answer is None or not isinstance(answer.body, dict):
        return None
    value = answer.body.get("status")
    return str(value) if value is not None else None


def run_one(client: Client, rng: random.Random, merchant: str, n: int) -> str | None:
    """One payment's scenario; answers its id (None when the create was never answered)."""
    scenario = rng.choices([s for s, _ in SCENARIOS], weights=[w for _, w in SCENARIOS])[0]
    card = rng.choice(ACQUIRER_TROUBLE) if scenario == "acquirer_trouble" else fresh_card(rng)
    if scenario == "bnpl":
        return run_bnpl(client, rng, merchant, n, card)
    amount = 25_000 if scenario == "challenge" else rng.randrange(500, 2_900)
    request = payment_request(
        card,
        amount,
        capture=scenario != "authorize_then_capture",
        merchant=merchant,
        ip=f"192.0.2.{rng.randrange(1, 255)}",
        device=f"dev_chaos_{merchant}_{n}",
    )
    request["customer"]["id"] = f"cus_chaos_{n}"
    made = client.post("/v1/payments", request, f"{merchant}-{n}-create")
    if made is None or made.status != 201:
        return None
    payment_id = str(made.body["id"])
    state = status_of(made)
    if scenario == "challenge" and state == "requires_action":
        resumed = client.post(
            f"/v1/payments/{payment_id}/resume",
            {"challenge_response": ACS_PASSING_CODE},
            f"{merchant}-{n}-resume",
        )
        state = status_of(resumed) or state
    if scenario == "authorize_then_capture" and state == "authorized":
        client.post(
            f"/v1/payments/{payment_id}/capture",
            {"amount": amount - rng.randrange(0, amount // 2)},
            f"{merchant}-{n}-capture",
        )
    if scenario in ("sale_then_partial_refund", "acquirer_trouble") and state == "captured":
        client.post(
            f"/v1/payments/{payment_id}/refunds",
            {"amount": max(1, amount // 3)},
            f"{merchant}-{n}-refund",
        )
    return payment_id


def run_bnpl(client: Client, rng: random.Random, merchant: str, n: int, card: str) -> str | None:
    """A BNPL checkout (``pay_in_4`` on the customer's card token; the first instalment is
    charged at once), then, for about half, the refund of the whole purchase."""
    customer = f"cus_chaos_{n}"
    token = client.post(
        "/v1/tokens", {"number": card, "customer_id": customer}, f"{merchant}-{n}-token"
    )
    if token is None or token.status != 201:
        return None
    # Within the local credit policy's bounds (EUR 30 to 2,000), the demo's approved applicant.
    method = {"type": "bnpl", "plan": "pay_in_4", "applicant": APPLICANT}
    request = {
        "merchant_id": merchant,
        "currency": "EUR",
        "amount": rng.randrange(3_000, 20_000),
        "customer": {"id": customer, "country": "DE"},
        "payment_method": {**method, "token": token.body["token"]},
    }
    made = client.post("/v1/payments", request, f"{merchant}-{n}-create")
    if made is None or made.status != 201:
        return None
    payment_id = str(made.body["id"])
    if status_of(made) == "captured" and rng.random() < 0.5:
        # A BNPL refund gives back the whole purchase (no amount: a partial one is refused).
        client.post(f"/v1/payments/{payment_id}/refunds", {}, f"{merchant}-{n}-refund")
    return payment_id


def bnpl_difference(
    view: dict[str, Any],
    plan: dict[str, Any],
    entries: list[CreditEntry],
    moved: dict[str, Counter[str]],
) -> str | None:
    """How a BNPL payment's plan, its credit ledger and the acquirer's record of the plan's
    card charges disagree, if they do. The ledger's acquirer receivable rises by what a
    charge took and falls by what a refund gave back; the acquirer records each charge as a
    capture and each refund as a refund under the plan's keys (``{plan_id}:...``)."""
    plan_id = str(plan["id"])
    problems = []
    net = Counter[str]()
    for (_, currency), amount in credit_balances(entries).items():
        net[currency] += amount
    if any(net.values()):
        problems.append(f"credit ledger does not balance: {dict(net)}")
    effects = [entry.on(ACQUIRER_RECEIVABLE) for entry in entries]
    ledger = (sum(e for e in effects if e > 0), -sum(e for e in effects if e < 0))
    instalments = plan.get("instalments", [])
    planned = (
        sum(i["amount"] for i in instalments if i["status"] in _PAID),
        sum(i["amount"] for i in instalments if i["status"] == "refunded"),
    )
    done = moved.get(plan_id, Counter())
    acquirer = (done["capture"], done["refund"])
    if not ledger == acquirer == planned:
        problems.append(
            f"charged/refunded: ledger {ledger[0]}/{ledger[1]}, acquirer "
            f"{acquirer[0]}/{acquirer[1]}, plan {planned[0]}/{planned[1]}"
        )
    if (view["status"] == "refunded") != (plan.get("status") == "refunded"):
        problems.append(f"payment {view['status']} but plan {plan.get('status')}")
    if not problems:
        return None
    return f"{view['id']} (plan {plan_id}): " + "; ".join(problems)


def moved_by_payment(operations: list[AcquirerOperation]) -> dict[str, Counter[str]]:
    """What the acquirer captured and refunded per payment, by its operation record."""
    moved: dict[str, Counter[str]] = defaultdict(Counter)
    for operation in operations:
        if operation.status is OperationStatus.SUCCEEDED and operation.kind in (
            OperationKind.CAPTURE,
            OperationKind.REFUND,
        ):
            moved[operation.payment_id][str(operation.kind)] += operation.amount
    return moved


def acquirer_difference(
    payment_id: str, captured: int, refunded: int, moved: dict[str, Counter[str]]
) -> str | None:
    """How the acquirer's record of a payment differs from what the API reports, if it does."""
    acquired = moved.get(payment_id, Counter())
    if (acquired["capture"], acquired["refund"]) == (captured, refunded):
        return None
    return (
        f"{payment_id}: API captured {captured} refunded {refunded}, acquirer "
        f"{acquired['capture']}/{acquired['refund']}"
    )


def moved_after_void(operations: list[AcquirerOperation]) -> list[str]:
    """Payments with a succeeded void and a succeeded capture or refund of the same
    authorization, whichever came first (the record keeps no order). A void by the authorize
    key names no authorization id: it clashes with every capture and refund of its payment."""
    voids: dict[str, list[AcquirerOperation]] = defaultdict(list)
    moves: dict[str, list[AcquirerOperation]] = defaultdict(list)
    for operation in operations:
        if operation.status is OperationStatus.SUCCEEDED:
            kept = voids if operation.kind is OperationKind.VOID else moves
            kept[operation.payment_id].append(operation)
    found = []
    for payment_id in sorted(voids.keys() & moves.keys()):
        clashes = [
            (void, move)
            for void in voids[payment_id]
            for move in moves[payment_id]
            if void.authorization_id in ("", move.authorization_id)
        ]
        if clashes:
            voided = sorted({void.reference for void, _ in clashes})
            moved = sorted({f"{move.kind} {move.reference} {move.amount}" for _, move in clashes})
            found.append(f"{payment_id}: voided {voided}, moved {moved}")
    return found


def resent_with_other_parameters(requests: list[AcquirerRequest]) -> list[str]:
    """Keys the acquirer received more than once for one kind of request with different
    parameters: a retry must send the same request again, and the simulator (like many
    acquirers) would not notice. Kinds apart: a void by key names the authorize call's key."""
    seen: dict[tuple[str, str], set[tuple[str, int, str]]] = defaultdict(set)
    for request in requests:
        seen[request.kind, request.reference].add(
            (request.authorization_id, request.amount, request.currency)
        )
    return [
        f"{kind} {key}: {sorted(variants)}"
        for (kind, key), variants in sorted(seen.items())
        if len(variants) > 1
    ]


@dataclass(frozen=True)
class Stack:
    """What the chaos run needs of an applied environments/local."""

    endpoint: str
    payments_table: str
    ledger_table: str
    reconcile_function: str
    credit_ledger_table: str
    bnpl_function: str

    @classmethod
    def from_outputs(cls, endpoint: str, outputs: dict[str, Any]) -> Stack:
        def value(name: str) -> Any:
            found = outputs[name]
            return found["value"] if isinstance(found, dict) and "value" in found else found

        return cls(
            endpoint,
            str(value("payments_table_name")),
            str(value("ledger_table_name")),
            str(value("function_names")["reconcile"]),
            str(value("credit")["ledger_table_name"]),
            str(value("credit")["bnpl_function_name"]),
        )


class Progress:
    """A line every ``every`` payments, so a run of hours shows its rate while it runs (a rate
    that falls as the tables grow is the emulator's, not the design's: see local/speedups.py)."""

    def __init__(
        self,
        payments: int,
        started: float,
        faults_so_far: Callable[[], dict[str, int]],
        every: int = 250,
    ) -> None:
        self._payments = payments
        self._started = started
        self._faults_so_far = faults_so_far
        self._every = every
        self._done = 0
        self._last = (started, 0)
        self._lock = threading.Lock()

    def done_one(self) -> None:
        with self._lock:
            self._done += 1
            done = self._done
            if done % self._every and done != self._payments:
                return
            now = time.monotonic()
            since, before = self._last
            self._last = (now, done)
        try:
            faults_so_far = sum(self._faults_so_far().values())
        except OSError:  # the report line is not worth failing a run for
            faults_so_far = -1
        print(
            f"  {done:>6}/{self._payments} payments, {now - self._started:6.0f} s, "
            f"{(done - before) / max(now - since, 1e-9):.2f} payments/s lately, "
            f"{faults_so_far} faults so far",
            flush=True,
        )


def run_chaos(
    api: ApiClient,
    stack: Stack,
    *,
    payments: int,
    concurrency: int = 8,
    fault_rate: float = 0.1,
    seed: int = 17,
) -> ChaosReport:
    # The merchant the client's API key names (the only one it may act for).
    merchant = api.merchant_id or f"m_chaos_{uuid.uuid4().hex[:8]}"
    clients = [Client(api) for _ in range(concurrency)]
    # The reconciliation reads the run's own window.
    window_start = reconcile_since()
    started = time.monotonic()
    set_faults(stack.endpoint, fault_plan(fault_rate, seed))
    try:
        progress = Progress(payments, started, lambda: injected(stack.endpoint))

        def lane(index: int) -> list[str]:
            # One generator per lane: the run is repeatable for a seed whatever the scheduling.
            rng = random.Random(seed * 1_000 + index)  # noqa: S311 (a workload, not a secret)
            made = []
            for n in range(index, payments, concurrency):
                payment_id = run_one(clients[index], rng, merchant, n)
                if payment_id is not None:
                    made.append(payment_id)
                progress.done_one()
            return made

        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            made = [pid for ids in pool.map(lane, range(concurrency)) for pid in ids]
        seconds = time.monotonic() - started
        counted = injected(stack.endpoint)
    finally:
        set_faults(stack.endpoint, None)
    sent = [s for client in clients for s in client.sent]
    return check(stack, api, made, sent, payments, seconds, fault_rate, counted, since=window_start)


def check(
    stack: Stack,
    api: ApiClient,
    made: list[str],
    sent: list[Sent],
    payments: int,
    seconds: float,
    fault_rate: float,
    counted: dict[str, int],
    *,
    since: dt.datetime | None = None,
) -> ChaosReport:
    """The invariants, read with faults off."""
    from local.payments_demo import reconcile

    # The reconciliation of a run of thousands takes minutes (its function's timeout is 300 s):
    # botocore's 60 s read timeout retried it, and a 5,000-payment run failed there.
    lambda_client = emulator_client("lambda", stack.endpoint, read_timeout_s=RECONCILE_WAIT_S)
    ddb = emulator_client("dynamodb", stack.endpoint)
    waited = wait_out_stuck(PaymentsTable(ddb, stack.payments_table))
    if waited:
        print(f"  waited {waited:.0f} s for payments left authorizing to reach the sweeper")
    # The repair run reports what it found before repairing; a run on a big table is slow on
    # the emulator (a minute and more), so two runs, not three.
    # A reconciliation that fails (its function timed out) is a finding of the run: reported
    # beside the invariants, never a reason to lose the report of an hour's payments.
    try:

        def card_run(repair: bool, start: dt.datetime | None) -> dict[str, Any]:
            return reconcile(lambda_client, stack.reconcile_function, repair=repair, since=start)

        report = reconcile_whole(card_run, repair=True, since=since)
        after = reconcile_whole(card_run, repair=False, since=since)
        unhealed = [f"{m['kind']}: {m['payment_id']} {m['detail']}" for m in after["mismatches"]]
        if not after["window"]["complete"]:
            unhealed.append(f"the reconciliation did not finish in {RECONCILE_RUNS} runs")
    except RuntimeError as error:
        report, after, unhealed = {}, {}, [str(error)]
    ledger = DynamoLedgerStore(ddb, stack.ledger_table)
    unbalanced = 0
    per_currency: Counter[str] = Counter()
    for entry in ledger.scan_entries():
        if unbalanced_currencies(entry.lines):
            unbalanced += 1
        for line in entry.lines:
            per_currency[line.currency] += line.delta
    operations = AcquirerOperationsTable(ddb, stack.payments_table).operations()
    moved = moved_by_payment(operations)
    credit_ledger = DynamoCreditLedgerStore(ddb, stack.credit_ledger_table)
    statuses: Counter[str] = Counter()
    ledger_mismatches, double_moves, nonterminal, bnpl_mismatches = [], [], [], []
    # The keys of this run's acquirer requests start with a payment's id, or a BNPL plan's.
    ours = set(made)
    bnpl_payments = 0
    bnpl_plans: list[tuple[dict[str, Any], dict[str, Any], list[CreditEntry]]] = []
    for payment_id in made:
        current = api.get(f"/v1/payments/{payment_id}").body
        status = str(current["status"])
        statuses[status] += 1
        if status not in SETTLED:
            nonterminal.append(f"{payment_id} {status}")
        if current.get("bnpl") is not None:
            bnpl_payments += 1
            plan_id = current["bnpl"].get("plan_id")
            if plan_id is None:  # declined: no plan, nothing charged
                continue
            ours.add(str(plan_id))
            plan = api.get(f"/v1/bnpl/plans/{plan_id}").body
            try:
                entries = credit_ledger.entries_for(str(plan_id))
            except ValueError as error:  # an entry that does not balance cannot be read
                bnpl_mismatches.append(f"{payment_id} (plan {plan_id}): {error}")
                continue
            bnpl_plans.append((current, plan, entries))
            continue
        captured, refunded = int(current["amount_captured"]), int(current["amount_refunded"])
        held = position(ledger.entries_for(payment_id))
        if (held.captured, held.refunded) != (captured, refunded):
            ledger_mismatches.append(
                f"{payment_id}: API captured {captured} refunded {refunded}, ledger "
                f"{held.captured}/{held.refunded}"
            )
        difference = acquirer_difference(payment_id, captured, refunded, moved)
        if difference is not None:
            double_moves.append(difference)
    for current, plan, entries in bnpl_plans:
        found = bnpl_difference(current, plan, entries, moved)
        if found is not None:
            bnpl_mismatches.append(found)
    requests = [
        request
        for request in AcquirerRequestsTable(ddb, stack.payments_table).requests()
        if request.reference.split(":", 1)[0] in ours
    ]
    try:
        bnpl_report = (
            reconcile_bnpl(lambda_client, stack.bnpl_function, since) if bnpl_payments else {}
        )
        bnpl_unreconciled = [
            json.dumps(m, sort_keys=True) for m in bnpl_report.get("mismatches", [])
        ]
        if bnpl_report.get("complete") is False:
            # What it did not reach is not known to reconcile.
            bnpl_unreconciled.append(
                f"the BNPL reconciliation did not finish in {RECONCILE_RUNS} runs: it reached "
                f"{bnpl_report.get('reached')}"
            )
    except RuntimeError as error:
        bnpl_report, bnpl_unreconciled = {}, [str(error)]
    changed = []
    for request in sent:
        if not request.retried or request.first_answer is None:
            continue
        again = api.post(request.path, request.body, idempotency_key=request.key)
        if again.status != request.first_answer.status or _identity(again) != _identity(
            request.first_answer
        ):
            changed.append(
                f"{request.path} key {request.key}: first {request.first_answer.status} "
                f"{_identity(request.first_answer)}, replayed {again.status} {_identity(again)}"
            )
    return ChaosReport(
        payments=payments,
        seconds=seconds,
        fault_rate=fault_rate,
        injected=counted,
        statuses=dict(statuses),
        retried_requests=sum(1 for s in sent if s.retried),
        unanswered_requests=sum(1 for s in sent if s.first_answer is None),
        unanswered=[
            f"{s.path} key {s.key}: {', '.join(s.seen)}" for s in sent if s.first_answer is None
        ],
        unbalanced_entries=unbalanced,
        currency_imbalance={c: v for c, v in per_currency.items() if v != 0},
        ledger_mismatches=ledger_mismatches,
        double_moves=double_moves,
        nonterminal=nonterminal,
        changed_answers=changed,
        reconciliation=report,
        checked_again=after,
        bnpl_reconciliation=bnpl_report,
        unhealed=unhealed,
        acquirer_requests=dict(Counter(request.kind for request in requests)),
        resent_changed=resent_with_other_parameters(requests),
        moved_after_void=moved_after_void([o for o in operations if o.payment_id in ours]),
        bnpl_payments=bnpl_payments,
        bnpl_mismatches=bnpl_mismatches,
        bnpl_unreconciled=bnpl_unreconciled,
    )


def wait_out_stuck(
    payments: PaymentRecords,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    sleep: Callable[[float], None] = time.sleep,
) -> float:
    """Waits until every payment the run left ``authorizing`` is older than the sweeper's
    bound (``STUCK_AFTER``), so that the repair run resolves it (voids it, or finishes a sale
    whose capture the acquirer took) instead of leaving it to the next scheduled run. A run
    that left none (the usual case, and the small run ``make test`` makes) does not wait.
    Answers the seconds waited."""
    now = clock()
    left = [p.updated_at for p in payments.holds_due(HoldKind.AUTHORIZING, instant(now))]
    if not left:
        return 0.0
    newest = max(dt.datetime.fromisoformat(updated_at) for updated_at in left)
    # A second over the bound: the reconcile function reads its own clock a moment later.
    wait = (newest + STUCK_AFTER - now).total_seconds() + 1.0
    if wait <= 0:
        return 0.0
    sleep(wait)
    return wait


def reconcile_whole(
    run: Callable[[bool, dt.datetime | None], dict[str, Any]],
    *,
    repair: bool,
    since: dt.datetime | None,
) -> dict[str, Any]:
    """The card reconciliation over the run's window, invoked again from where each
    invocation stopped for time (``window.reached``) until one finishes, at most
    ``RECONCILE_RUNS`` times: one answer, its payments checked and mismatches summed."""
    whole: dict[str, Any] = {"checked_payments": 0, "mismatches": [], "repaired": [], "runs": 0}
    # Each invocation's whole answer (resolved, swept, canceled...), for reading a failed check.
    whole["answers"] = []
    start = since
    for _ in range(RECONCILE_RUNS):
        answer = run(repair, start)
        whole["runs"] += 1
        whole["answers"].append(answer)
        whole["checked_payments"] += answer.get("checked_payments", 0)
        whole["mismatches"] += answer.get("mismatches", [])
        whole["repaired"] += answer.get("repaired", [])
        whole["window"] = answer["window"]
        if answer["window"]["complete"]:
            break
        # Payments updated at the instant it reached are checked again: harmless.
        start = dt.datetime.fromisoformat(answer["window"]["reached"]["updated_at"])
    return whole


def reconcile_bnpl(lambda_client: Any, function: str, since: dt.datetime | None) -> dict[str, Any]:
    """The BNPL reconciliation (plans, the credit ledger, the payments that made them) over the
    run's window, invoked by hand and again from where each invocation stopped for time
    (``reached``) until one finishes, at most ``RECONCILE_RUNS`` times: one answer."""
    until = dt.datetime.now(dt.UTC)
    request: dict[str, Any] = {"action": "reconcile", "until": until.isoformat()}
    if since is not None:
        request["since"] = since.isoformat()
    whole: dict[str, Any] = {
        "checked_payments": 0,
        "mismatch_count": 0,
        "mismatches": [],
        "runs": 0,
    }
    for _ in range(RECONCILE_RUNS):
        whole["runs"] += 1
        answer = lambda_client.invoke(FunctionName=function, Payload=json.dumps(request).encode())
        report: dict[str, Any] = json.loads(answer["Payload"].read())
        if answer.get("FunctionError"):
            raise RuntimeError(f"the BNPL reconciliation failed: {report}")
        for total in ("checked_payments", "mismatch_count"):
            whole[total] += report[total]
        whole["mismatches"] += report["mismatches"]
        whole["complete"], whole["reached"] = report["complete"], report["reached"]
        if report["complete"]:
            break
        request["after"] = report["reached"]
    return whole


def _identity(answer: ApiResponse) -> tuple[Any, ...]:
    """What a replay must repeat: the same object, or the same error code."""
    body = answer.body if isinstance(answer.body, dict) else {}
    if "error" in body:
        return ("error", body["error"].get("code"))
    return (body.get("id"), body.get("object"))


def record(report: ChaosReport, results_path: Path) -> None:
    """Adds the run's figures to ``bench/results.json`` beside the benchmarks'."""
    existing = json.loads(results_path.read_text()) if results_path.exists() else {}
    existing.update(report.figures())
    results_path.write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n")
