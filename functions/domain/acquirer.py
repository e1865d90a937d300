"""The authorization connector: the port to the acquirer, its values and errors, and a simulator.

The payment workflow never holds a card number after tokenization, so an authorization names
the card by a ``CardReference`` (the vault token plus what may be shown: brand, last four,
expiry). A real connector turns that reference into something the acquirer accepts inside its
own boundary: the vault's forwarding proxy substitutes the PAN into the outgoing request, or
the token stands for a network token the acquirer already knows. Neither happens here.

Idempotency: every call carries an idempotency key. Sending the same call again with the same
key returns the first answer and never acts twice, which is what makes ``AcquirerTimeoutError``
(outcome unknown) recoverable: retry with the same key, ask ``operation_status`` by that key, or
void an authorization by it. A timeout is never read as "nothing happened".

``AcquirerRecords`` is the acquirer's own account of what it did (the simulator's operation log,
or a real acquirer's settlement file read by ``SettlementFileRecords``): the reconciliation
matches the payment records against it. ``SettlementSource`` gives the acquirer's settlement
batches (what it paid into the platform's bank account, net of its interchange, scheme and
dispute fees, and the chargebacks it took back): the simulator makes a daily batch of what it
has not settled yet, ``SettlementFileRecords`` reads them from a real acquirer's file.

``AcquirerSimulator`` implements the port without a network, driven by documented test cards
(``TEST_CARDS``, docs/test-cards.md).
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import hmac
import io
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Protocol, runtime_checkable

from functions.domain.currencies import is_currency, minor_units


@dataclass(frozen=True, slots=True)
class CardReference:
    """A tokenized card: the vault token and the details that may be displayed. Never a PAN."""

    token: str
    brand: str
    last4: str
    exp_month: int | None
    exp_year: int | None


@dataclass(frozen=True, slots=True)
class Authentication:
    """The outcome of the SCA step (3-D Secure): ECI, the cryptogram (CAVV/AAV), or the
    exemption claimed instead of a challenge."""

    eci: str | None
    authentication_value: str | None = field(repr=False)
    exemption: str | None


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    payment_id: str
    merchant_id: str
    amount: int
    currency: str
    card: CardReference
    authentication: Authentication
    idempotency_key: str


class DeclineCode(StrEnum):
    INSUFFICIENT_FUNDS = "insufficient_funds"
    DO_NOT_HONOR = "do_not_honor"
    EXPIRED_CARD = "expired_card"
    # A soft decline: the issuer wants the cardholder authenticated (it refused the exemption).
    AUTHENTICATION_REQUIRED = "authentication_required"
    # Hard declines: never retry, and never with another card's details.
    LOST_CARD = "lost_card"
    STOLEN_CARD = "stolen_card"

    @property
    def soft(self) -> bool:
        """Retried with strong customer authentication, the payment may be approved."""
        return self is DeclineCode.AUTHENTICATION_REQUIRED

    @property
    def hard(self) -> bool:
        """The card may not be charged again (lost, stolen, expired)."""
        return self in (DeclineCode.LOST_CARD, DeclineCode.STOLEN_CARD, DeclineCode.EXPIRED_CARD)


# Network response codes an acquirer may relay instead of a reason name: Visa 1A and
# Mastercard 65 are the SCA soft declines; 41/43 lost/stolen (pick up); 51 funds; 54 expired.
NETWORK_DECLINE_CODES: Mapping[str, DeclineCode] = MappingProxyType(
    {
        "1A": DeclineCode.AUTHENTICATION_REQUIRED,
        "65": DeclineCode.AUTHENTICATION_REQUIRED,
        "41": DeclineCode.LOST_CARD,
        "43": DeclineCode.STOLEN_CARD,
        "51": DeclineCode.INSUFFICIENT_FUNDS,
        "54": DeclineCode.EXPIRED_CARD,
        "05": DeclineCode.DO_NOT_HONOR,
    }
)


def decline_code(reason: str) -> DeclineCode:
    """A relayed decline reason as ours: a name or a network code; any other is the generic
    ``do_not_honor`` (still a decline)."""
    try:
        return DeclineCode(reason)
    except ValueError:
        return NETWORK_DECLINE_CODES.get(reason.upper(), DeclineCode.DO_NOT_HONOR)


@dataclass(frozen=True, slots=True)
class AuthorizationResult:
    """An answer from the issuer: approved with an authorization id, or declined with a code."""

    approved: bool
    authorization_id: str | None
    decline_code: DeclineCode | None
    network_reference: str | None


@dataclass(frozen=True, slots=True)
class OperationResult:
    """A capture, refund or void the acquirer accepted."""

    operation_id: str
    amount: int


class OperationKind(StrEnum):
    CAPTURE = "capture"
    REFUND = "refund"
    VOID = "void"


class OperationStatus(StrEnum):
    """What the acquirer knows of an operation by its idempotency key. ``NOT_FOUND`` is not
    "failed": a real acquirer may not show an operation yet, so the caller resolves it by sending
    the same operation again under the same key (which can never act twice)."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    NOT_FOUND = "not_found"


@dataclass(frozen=True, slots=True)
class AcquirerOperation:
    """One capture, refund or void as the acquirer recorded it. ``reference`` is the idempotency
    key it was sent with (``{payment_id}:capture:{n}``, ``{payment_id}:refund:{refund_id}``), which
    is how a settlement line finds its payment."""

    kind: OperationKind
    reference: str
    authorization_id: str
    amount: int
    currency: str
    status: OperationStatus = OperationStatus.SUCCEEDED

    @property
    def payment_id(self) -> str:
        return self.reference.split(":", 1)[0]


class AcquirerRecords(Protocol):
    """The acquirer's own record of the operations it executed (complete for the period read)."""

    def operations(self) -> list[AcquirerOperation]: ...


class OperationLog(AcquirerRecords, Protocol):
    """Where the simulator keeps what it did, so that a later question (``operation_status``,
    reconciliation) gets the acquirer's answer rather than ours."""

    def record(self, operation: AcquirerOperation) -> AcquirerOperation:
        """Stores ``operation`` unless its reference is known; returns the stored one."""
        ...

    def claim(self, authorization: str, operation: AcquirerOperation) -> AcquirerOperation:
        """Keeps ``operation`` as the first to reach the authorization (its core, however the
        operation names it) unless one did; returns the first. Whether that one voided it
        decides what the authorization accepts from then on. Records no operation."""
        ...

    def find(self, reference: str) -> AcquirerOperation | None: ...


class InMemoryOperationLog(OperationLog):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._operations: dict[str, AcquirerOperation] = {}
        self._claims: dict[str, AcquirerOperation] = {}

    def record(self, operation: AcquirerOperation) -> AcquirerOperation:
        with self._lock:
            return self._operations.setdefault(operation.reference, operation)

    def claim(self, authorization: str, operation: AcquirerOperation) -> AcquirerOperation:
        with self._lock:
            return self._claims.setdefault(authorization, operation)

    def find(self, reference: str) -> AcquirerOperation | None:
        with self._lock:
            return self._operations.get(reference)

    def operations(self) -> list[AcquirerOperation]:
        with self._lock:
            return list(self._operations.values())


@dataclass(frozen=True, slots=True)
class AcquirerRequest:
    """One request as the simulator received it, before it acted: retries under the same key
    included, so a capture sent twice shows twice even when it moved money once, and a key sent
    again with another amount (which the simulator cannot refuse) is visible."""

    kind: str  # authorize, or an OperationKind
    reference: str  # the idempotency key
    authorization_id: str
    amount: int
    currency: str


class RequestLog(Protocol):
    """Where the simulator writes every request it receives (in memory, or a table when
    deployed, so a chaos run reads every container's)."""

    def received(self, request: AcquirerRequest) -> None:
        """Records ``request``; an error means nothing was done (the caller may send again)."""
        ...

    def requests(self) -> list[AcquirerRequest]: ...


class InMemoryRequestLog(RequestLog):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[AcquirerRequest] = []

    def received(self, request: AcquirerRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def requests(self) -> list[AcquirerRequest]:
        with self._lock:
            return list(self._requests)


class SettlementKind(StrEnum):
    """What a settlement line moves: a capture paid in, a refund or a chargeback taken back, a
    dispute won given back."""

    CAPTURE = "capture"
    REFUND = "refund"
    CHARGEBACK = "chargeback"
    DISPUTE_WON = "dispute_won"
    # The representment failed for good: nothing moves, the platform writes off what it hoped
    # to recover (``amount`` is the chargeback's).
    DISPUTE_LOST = "dispute_lost"


@dataclass(frozen=True, slots=True)
class SettlementLine:
    """One line of a settlement batch. ``reference`` is the operation's idempotency key
    (``{payment_id}:capture:{n}``, ``{payment_id}:refund:{id}``) or, for a dispute,
    ``{payment_id}:chargeback:{dispute_id}`` and ``{payment_id}:dispute_won:{dispute_id}``;
    ``amount`` and the fees are minor units: ``interchange_fee`` and ``scheme_fee`` the
    acquirer's cost of a capture, ``dispute_fee`` its fee for a chargeback."""

    kind: SettlementKind
    reference: str
    amount: int
    currency: str
    interchange_fee: int = 0
    scheme_fee: int = 0
    dispute_fee: int = 0
    # A chargeback's scheme reason code (Visa 10.4, Mastercard 4837...): fraud or not for the
    # Art. 19 fraud rate (domain.fraud_rate.is_fraud_reason).
    reason_code: str = ""

    def __post_init__(self) -> None:
        check_idempotency_key(self.reference)
        check_amount(self.amount)
        check_currency(self.currency)
        for fee in (self.interchange_fee, self.scheme_fee, self.dispute_fee):
            if isinstance(fee, bool) or not isinstance(fee, int) or fee < 0:
                raise AcquirerRejectedError(ErrorCode.INVALID_AMOUNT, "A fee is not valid.")
        parts = self.reference.split(":")
        if len(parts) != 3 or not parts[0] or not parts[2] or parts[1] != self.kind.value:
            raise AcquirerRejectedError(
                ErrorCode.INVALID_IDEMPOTENCY_KEY, "The settlement reference is not valid."
            )

    @property
    def payment_id(self) -> str:
        return self.reference.split(":", 1)[0]

    @property
    def operation(self) -> str:
        """The capture sequence, refund id or dispute id."""
        return self.reference.rsplit(":", 1)[1]

    @property
    def acquirer_fees(self) -> int:
        return self.interchange_fee + self.scheme_fee


@dataclass(frozen=True, slots=True)
class SettlementBatch:
    """What the acquirer paid (or took) in one transfer: its lines and the value date on which
    the funds reach the platform's bank account."""

    batch_id: str
    value_date: str
    lines: tuple[SettlementLine, ...]

    def __post_init__(self) -> None:
        check_idempotency_key(self.batch_id)
        if ":" in self.batch_id or "#" in self.batch_id:
            raise ValueError("a batch id has no ':' or '#'")
        dt.date.fromisoformat(self.value_date)
        references = [line.reference for line in self.lines]
        if len(set(references)) != len(references):
            raise ValueError(f"batch {self.batch_id} settles a reference twice")
        if not self.lines:
            raise ValueError(f"batch {self.batch_id} has no lines")


@runtime_checkable
class SettlementSource(Protocol):
    """The acquirer's settlement batches up to a day. ``settled`` are the references already
    settled (the ledger's settlement entries): a source that decides what a new batch holds (the
    simulator) leaves them out; a file of fixed batches ignores it."""

    def batches(self, through: dt.date, settled: frozenset[str]) -> list[SettlementBatch]: ...


SETTLEMENT_COLUMNS = ("kind", "reference", "authorization_id", "amount", "currency", "status")
SETTLEMENT_FILE_COLUMNS = (
    "batch_id",
    "value_date",
    *SETTLEMENT_COLUMNS,
    "interchange_fee",
    "scheme_fee",
    "dispute_fee",
)
# With the chargeback reason code as a last column (empty on every other line).
SETTLEMENT_FILE_COLUMNS_WITH_REASON = (*SETTLEMENT_FILE_COLUMNS, "reason_code")


def _fee(value: str | None) -> int:
    return int(value) if value else 0


class SettlementFileRecords(AcquirerRecords, SettlementSource):
    """A real acquirer's settlement (clearing) file behind the same ports: CSV with the header
    ``batch_id,value_date,kind,reference,authorization_id,amount,currency,status,
    interchange_fee,scheme_fee,dispute_fee`` (optionally with a last ``reason_code`` column, the
    chargebacks' scheme reason codes) or only the six operation columns, for a file that serves
    the reconciliation alone. ``kind`` is capture, refund, void, chargeback, dispute_won or
    dispute_lost. An acquirer's own format is mapped onto these columns by whoever fetches the
    file; a malformed line is refused whole, because a reconciliation over a partly read file
    would report money as missing."""

    def __init__(self, text: str) -> None:
        reader = csv.DictReader(io.StringIO(text))
        header = tuple(reader.fieldnames or ())
        if header not in (
            SETTLEMENT_COLUMNS,
            SETTLEMENT_FILE_COLUMNS,
            SETTLEMENT_FILE_COLUMNS_WITH_REASON,
        ):
            raise ValueError(
                f"a settlement file has the columns {','.join(SETTLEMENT_FILE_COLUMNS)} "
                f"(or {','.join(SETTLEMENT_COLUMNS)})"
            )
        operations: list[AcquirerOperation] = []
        lines: dict[tuple[str, str], list[SettlementLine]] = defaultdict(list)
        for number, row in enumerate(reader, start=2):
            settled: SettlementLine | None
            try:
                if row["kind"] in (
                    SettlementKind.CHARGEBACK,
                    SettlementKind.DISPUTE_WON,
                    SettlementKind.DISPUTE_LOST,
                ):
                    settled = self._line(row)
                else:
                    operation = AcquirerOperation(
                        kind=OperationKind(row["kind"]),
                        reference=check_idempotency_key(row["reference"]),
                        authorization_id=row["authorization_id"],
                        amount=int(row["amount"]),
                        currency=check_currency(row["currency"]) if row["currency"] else "",
                        status=OperationStatus(row["status"] or OperationStatus.SUCCEEDED),
                    )
                    operations.append(operation)
                    settles = (
                        operation.kind is not OperationKind.VOID
                        and operation.status is OperationStatus.SUCCEEDED
                    )
                    settled = self._line(row) if settles and row.get("batch_id") else None
                if settled is not None:
                    day = row.get("value_date") or ""
                    dt.date.fromisoformat(day)
                    lines[str(row.get("batch_id")), day].append(settled)
            except (ValueError, TypeError, AcquirerRejectedError) as error:
                raise ValueError(f"settlement file line {number} is malformed") from error
        self._operations = tuple(operations)
        try:
            self._batches = tuple(
                SettlementBatch(batch_id, day, tuple(batch))
                for (batch_id, day), batch in sorted(lines.items())
            )
        except (ValueError, AcquirerRejectedError) as error:
            raise ValueError("a settlement batch of the file is malformed") from error
        if len({b.batch_id for b in self._batches}) != len(self._batches):
            raise ValueError("a settlement batch of the file has two value dates")

    @staticmethod
    def _line(row: Mapping[str, str | None]) -> SettlementLine:
        return SettlementLine(
            kind=SettlementKind(str(row["kind"])),
            reference=str(row["reference"]),
            amount=int(str(row["amount"])),
            currency=str(row["currency"]),
            interchange_fee=_fee(row.get("interchange_fee")),
            scheme_fee=_fee(row.get("scheme_fee")),
            dispute_fee=_fee(row.get("dispute_fee")),
            reason_code=str(row.get("reason_code") or ""),
        )

    def operations(self) -> list[AcquirerOperation]:
        return list(self._operations)

    def batches(self, through: dt.date, settled: frozenset[str]) -> list[SettlementBatch]:
        # A file's batches are what the acquirer paid, whatever their value date.
        return list(self._batches)


class ErrorCode(StrEnum):
    """Codes this module raises. Errors relayed from an acquirer may carry other codes."""

    PROCESSING_ERROR = "processing_error"
    RATE_LIMITED = "rate_limited"
    CONNECTION_FAILED = "connection_failed"
    TIMEOUT = "timeout"
    INVALID_RESPONSE = "invalid_response"
    REJECTED = "rejected"
    INVALID_AMOUNT = "invalid_amount"
    INVALID_CURRENCY = "invalid_currency"
    INVALID_CARD = "invalid_card"
    INVALID_IDEMPOTENCY_KEY = "invalid_idempotency_key"
    INVALID_AUTHORIZATION_ID = "invalid_authorization_id"
    UNKNOWN_AUTHORIZATION = "unknown_authorization"
    # A capture or refund of an authorization voided first, and a void of one captured first.
    AUTHORIZATION_VOIDED = "authorization_voided"
    ALREADY_CAPTURED = "already_captured"


class AcquirerError(Exception):
    """A call to the acquirer that produced no answer to act on. ``code`` may be logged and
    ``retryable`` says whether the same call (same idempotency key) may be sent again.
    Messages are fixed strings: never a card number, token or credential."""

    retryable: bool = False
    default_message = "The acquirer call failed."

    def __init__(self, code: str, message: str | None = None) -> None:
        self.code = str(code)
        self.message = message or self.default_message
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r})"


class AcquirerUnavailableError(AcquirerError):
    """The acquirer answered that it failed (processing error, overload): nothing happened."""

    retryable = True
    default_message = "The acquirer could not process the request; nothing was done."

    def __init__(self, code: str = ErrorCode.PROCESSING_ERROR, message: str | None = None) -> None:
        super().__init__(code, message)


class AcquirerTimeoutError(AcquirerError):
    """No usable answer in time: the outcome is UNKNOWN. The call may have taken effect.
    Retry with the same idempotency key, or void by the authorize call's key."""

    retryable = True
    default_message = "The acquirer did not answer in time; the outcome is unknown."

    def __init__(self, code: str = ErrorCode.TIMEOUT, message: str | None = None) -> None:
        super().__init__(code, message)


class AcquirerRejectedError(AcquirerError):
    """The acquirer refused the operation (bad arguments, unknown authorization, more than
    authorized): sending it again gives the same answer."""

    retryable = False
    default_message = "The acquirer refused the operation."

    def __init__(self, code: str = ErrorCode.REJECTED, message: str | None = None) -> None:
        super().__init__(code, message)


class AcquirerConnector(Protocol):
    """The acquirer as the payment workflow sees it. Every method may raise an AcquirerError."""

    def authorize(self, request: AuthorizationRequest) -> AuthorizationResult:
        """Ask the issuer to approve. A decline is a result, not an error."""
        ...

    def capture(
        self, authorization_id: str, amount: int, currency: str, idempotency_key: str
    ) -> OperationResult: ...

    def void(self, authorization_id: str | None, idempotency_key: str) -> OperationResult:
        """Cancel an authorization: by its id, or (``authorization_id`` None) by the
        idempotency key of the authorize call whose outcome was unknown."""
        ...

    def refund(
        self, authorization_id: str, amount: int, currency: str, idempotency_key: str
    ) -> OperationResult: ...

    def operation_status(self, idempotency_key: str) -> OperationStatus:
        """What became of the capture, refund or void sent with ``idempotency_key``: the way to
        resolve an ``AcquirerTimeoutError`` without acting a second time."""
        ...

    def operation(self, idempotency_key: str) -> AcquirerOperation | None:
        """The capture, refund or void sent with ``idempotency_key`` as the acquirer recorded
        it (None: not found, which is not "failed", as for ``operation_status``): what a sale
        whose workflow died after its capture learns its authorization from."""
        ...


# ---------------------------------------------------------------- argument checks

# Visible ASCII only: the key travels in an HTTP header, and the simulator joins MAC inputs
# with \x1f, which therefore cannot occur inside a key.
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")
# Starts with a letter or digit so that "." and ".." can never become a URL path segment.
_AUTHORIZATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def check_amount(amount: int) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise AcquirerRejectedError(
            ErrorCode.INVALID_AMOUNT, "The amount must be a positive integer in minor units."
        )
    return amount


def check_currency(currency: str) -> str:
    if not isinstance(currency, str) or not is_currency(currency):
        raise AcquirerRejectedError(
            ErrorCode.INVALID_CURRENCY, "The currency must be an ISO 4217 code."
        )
    return currency


def check_idempotency_key(key: str) -> str:
    if not isinstance(key, str) or _IDEMPOTENCY_KEY.fullmatch(key) is None:
        raise AcquirerRejectedError(
            ErrorCode.INVALID_IDEMPOTENCY_KEY,
            "The idempotency key must be 1 to 255 visible ASCII characters.",
        )
    return key


def check_authorization_id(authorization_id: str) -> str:
    if (
        not isinstance(authorization_id, str)
        or _AUTHORIZATION_ID.fullmatch(authorization_id) is None
    ):
        raise AcquirerRejectedError(
            ErrorCode.INVALID_AUTHORIZATION_ID, "The authorization id is not valid."
        )
    return authorization_id


def check_authorization_request(request: AuthorizationRequest) -> AuthorizationRequest:
    """The checks both connectors make before an authorization leaves the process."""
    check_amount(request.amount)
    check_currency(request.currency)
    check_idempotency_key(request.idempotency_key)
    last4 = request.card.last4
    if not (isinstance(last4, str) and len(last4) == 4 and last4.isascii() and last4.isdigit()):
        raise AcquirerRejectedError(ErrorCode.INVALID_CARD, "The card reference is not valid.")
    return request


# ---------------------------------------------------------------- the simulator


class Outcome(StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"
    PROCESSING_ERROR = "processing_error"
    TIMEOUT = "timeout"
    CAPTURE_FAILS = "capture_fails"
    # Declined with authentication_required unless the payment was authenticated (an ECI).
    SOFT_DECLINE = "soft_decline"
    # Approved; every capture and refund is executed but its first answer is lost (a timeout):
    # only the same idempotency key again, or operation_status, tells what happened.
    ANSWERS_LOST = "answers_lost"
    # Approved and captured; the cardholder disputes it: the batch after the one that settled
    # its capture takes it back as a chargeback, with the dispute fee.
    DISPUTED = "disputed"
    # Approved while the cardholder takes part; a merchant-initiated charge on the stored card
    # (the instalments after a BNPL checkout, a recurring payment) finds the account empty.
    MERCHANT_INITIATED_DECLINED = "merchant_initiated_declined"
    # Approved; every answer (authorize, capture, refund, void by id) comes slowly but within
    # the connector's timeout (SLOW_ANSWER_SHARE of it).
    SLOW = "slow"
    # Approved at the acquirer, but the answer comes after the connector gave up: the caller
    # sees a timeout for an authorization that exists, which only a void releases.
    LATE = "late"


@dataclass(frozen=True, slots=True)
class Behaviour:
    """What the simulator does for a test card. ``pan`` is the published test number (never a
    real card); the simulator itself only ever sees the last four digits."""

    pan: str
    outcome: Outcome
    decline_code: DeclineCode | None = None


def _card(pan: str, outcome: Outcome, decline: DeclineCode | None = None) -> tuple[str, Behaviour]:
    return pan[-4:], Behaviour(pan, outcome, decline)


TEST_CARDS: Mapping[str, Behaviour] = MappingProxyType(
    dict(
        (
            _card("4242424242424242", Outcome.APPROVED),
            _card("4000000000009995", Outcome.DECLINED, DeclineCode.INSUFFICIENT_FUNDS),
            _card("4000000000000002", Outcome.DECLINED, DeclineCode.DO_NOT_HONOR),
            _card("4000000000000069", Outcome.DECLINED, DeclineCode.EXPIRED_CARD),
            _card("4000000000000119", Outcome.PROCESSING_ERROR),
            _card("4000000000000408", Outcome.TIMEOUT),
            _card("4000000000000341", Outcome.CAPTURE_FAILS),
            _card("4000000000003220", Outcome.SOFT_DECLINE),
            _card("4000000000000259", Outcome.ANSWERS_LOST),
            _card("4000000000009987", Outcome.DECLINED, DeclineCode.LOST_CARD),
            _card("4000000000009979", Outcome.DECLINED, DeclineCode.STOLEN_CARD),
            _card("4000000000002685", Outcome.DISPUTED),
            _card(
                "4000000000005100",
                Outcome.MERCHANT_INITIATED_DECLINED,
                DeclineCode.INSUFFICIENT_FUNDS,
            ),
            _card("4000000000007775", Outcome.SLOW),
            _card("4000000000007783", Outcome.LATE),
        )
    )
)
APPROVE = TEST_CARDS["4242"]
# The exemption an authorization claims when the merchant charges a stored card on its own
# (functions.domain.sca's ``merchant_initiated``): the cardholder is not there to authenticate.
MERCHANT_INITIATED = "merchant_initiated"
# What an authorization id's tag says about its card's later captures and refunds.
_CAPTURABLE = "capturable"
_CAPTURE_FAILS = "capture-fails"
_ANSWERS_LOST = "answers-lost"
_DISPUTED = "disputed"
_SLOW = "slow"
_LABELS = {
    Outcome.CAPTURE_FAILS: _CAPTURE_FAILS,
    Outcome.ANSWERS_LOST: _ANSWERS_LOST,
    Outcome.DISPUTED: _DISPUTED,
    Outcome.SLOW: _SLOW,
}
# A slow answer takes this share of the connector's timeout: slow enough to show in latency and
# to pile up under load, never slow enough to time out.
SLOW_ANSWER_SHARE = 0.6
# What the simulated acquirer deducts from a settlement: interchange (the EU consumer debit cap,
# 0.2 %) and a scheme fee (0.1 %) per capture, rounded half up to a minor unit, and a dispute
# fee of 15 major units per chargeback. Funds arrive the day after the batch (T+1).
SIMULATED_INTERCHANGE_BPS = Decimal(20)
SIMULATED_SCHEME_BPS = Decimal(10)
SIMULATED_DISPUTE_FEE = Decimal(15)
SIMULATED_DISPUTE_REASON = "13.1"
SIMULATED_BATCH_PREFIX = "sim-"


def _bps_of(amount: int, bps: Decimal) -> int:
    return int((Decimal(amount) * bps / 10_000).quantize(Decimal(1), ROUND_HALF_UP))


AUTHORIZATION_PREFIX = "auth_"
_CORE_BYTES = 15  # 120 bits: 24 base32 characters
_TAG_BYTES = 5  # 40 bits: 8 base32 characters
_CORE_CHARS = _CORE_BYTES * 8 // 5
_TAG_CHARS = _TAG_BYTES * 8 // 5
_NETWORK_REFERENCE_DIGITS = 15


def _b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode().lower()


class AcquirerSimulator(AcquirerConnector, SettlementSource):
    """An acquirer without a network, for local runs and tests. Behaviour follows the card's
    last four digits (``TEST_CARDS``; any other card is approved). A real card ending in the
    same digits behaves like the test card: the simulator is never pointed at real cards.

    Stateless, because Lambda containers come and go: every id is an HMAC under ``key`` of the
    idempotency key, so a retry with the same key gets the same id, as at a real acquirer.
    An authorization id is ``auth_`` + core (HMAC of the authorize key) + tag (HMAC of the core
    and what its captures and refunds do, the only fact the simulator needs later). Nothing secret
    is embedded, and ids this key did not issue are refused as unknown authorizations.

    What it did is kept in ``records`` (an ``OperationLog``: in memory by default, a table when
    deployed, so that every container answers ``operation_status`` alike). Before recording an
    operation it claims the authorization for it (``OperationLog.claim``): the first of a void
    and a capture or refund to claim it wins, in any container, and the other is refused from
    then on, as a real acquirer refuses it: a capture or refund of a voided authorization
    (``authorization_voided``) and a void of a captured one (``already_captured``), both
    ``AcquirerRejectedError``. A refused operation is not recorded, so the same key again is
    refused again; one that went through answers under its key as before.

    It keeps no totals: it does not stop a capture above the authorized amount or refunds above
    the captured one (the payment domain enforces "never more than authorized/captured"), nor a
    refund with no capture before it (which then counts as the capture); it cannot notice a key
    reused with other parameters; and a void by key succeeds even when no authorization was
    made under that key (an authorization made under it later is then voided already). Every
    request it receives is written to ``request_log`` first (a ``RequestLog``), whatever comes
    of it.
    """

    def __init__(
        self,
        key: bytes,
        timeout_s: float,
        sleep: Callable[[float], None] = time.sleep,
        records: OperationLog | None = None,
        request_log: RequestLog | None = None,
    ) -> None:
        if len(key) < 16:
            raise ValueError("the simulator key must have at least 16 bytes")
        if not timeout_s > 0:
            raise ValueError("timeout_s must be positive")
        self._key = key
        self._timeout_s = timeout_s
        self._sleep = sleep
        self.records: OperationLog = records if records is not None else InMemoryOperationLog()
        self.request_log: RequestLog = (
            request_log if request_log is not None else InMemoryRequestLog()
        )

    def __repr__(self) -> str:
        return f"AcquirerSimulator(timeout_s={self._timeout_s!r})"

    def authorize(self, request: AuthorizationRequest) -> AuthorizationResult:
        check_authorization_request(request)
        self._received("authorize", request.idempotency_key, "", request.amount, request.currency)
        behaviour = TEST_CARDS.get(request.card.last4, APPROVE)
        core = self._core(request.idempotency_key)
        if behaviour.outcome is Outcome.SLOW:
            self._sleep(self._timeout_s * SLOW_ANSWER_SHARE)
        if behaviour.outcome is Outcome.PROCESSING_ERROR:
            raise AcquirerUnavailableError(ErrorCode.PROCESSING_ERROR)
        if behaviour.outcome is Outcome.TIMEOUT:
            self._sleep(self._timeout_s)
            raise AcquirerTimeoutError(ErrorCode.TIMEOUT)
        network_reference = self._network_reference(core)
        if behaviour.outcome is Outcome.SOFT_DECLINE and request.authentication.eci is None:
            return AuthorizationResult(
                False, None, DeclineCode.AUTHENTICATION_REQUIRED, network_reference
            )
        if behaviour.outcome is Outcome.DECLINED or (
            behaviour.outcome is Outcome.MERCHANT_INITIATED_DECLINED
            and request.authentication.exemption == MERCHANT_INITIATED
        ):
            return AuthorizationResult(False, None, behaviour.decline_code, network_reference)
        label = _LABELS.get(behaviour.outcome, _CAPTURABLE)
        authorization_id = AUTHORIZATION_PREFIX + core + self._tag(core, label)
        if behaviour.outcome is Outcome.LATE:
            # Authorized here; the connector stopped waiting at its timeout.
            self._sleep(self._timeout_s)
            raise AcquirerTimeoutError(ErrorCode.TIMEOUT)
        return AuthorizationResult(True, authorization_id, None, network_reference)

    def capture(
        self, authorization_id: str, amount: int, currency: str, idempotency_key: str
    ) -> OperationResult:
        check_amount(amount)
        check_currency(currency)
        check_idempotency_key(idempotency_key)
        self._received(OperationKind.CAPTURE, idempotency_key, authorization_id, amount, currency)
        core, label = self._parse(authorization_id)
        self._answer_slowly(label)
        if label == _CAPTURE_FAILS:
            raise AcquirerUnavailableError(ErrorCode.PROCESSING_ERROR)
        done = self._record(
            core, OperationKind.CAPTURE, idempotency_key, authorization_id, amount, currency, label
        )
        return OperationResult("cap_" + self._id("capture", core, idempotency_key), done.amount)

    def refund(
        self, authorization_id: str, amount: int, currency: str, idempotency_key: str
    ) -> OperationResult:
        check_amount(amount)
        check_currency(currency)
        check_idempotency_key(idempotency_key)
        self._received(OperationKind.REFUND, idempotency_key, authorization_id, amount, currency)
        core, label = self._parse(authorization_id)
        self._answer_slowly(label)
        done = self._record(
            core, OperationKind.REFUND, idempotency_key, authorization_id, amount, currency, label
        )
        return OperationResult("ref_" + self._id("refund", core, idempotency_key), done.amount)

    def void(self, authorization_id: str | None, idempotency_key: str) -> OperationResult:
        """A void is final, so its id depends only on the authorization: voiding by id (any
        key) and by the authorize key name the same operation. The amount is 0: nothing moves.
        Refused once the authorization was captured or refunded.
        """
        check_idempotency_key(idempotency_key)
        self._received(OperationKind.VOID, idempotency_key, authorization_id or "", 0, "")
        if authorization_id is None:
            core = self._core(idempotency_key)
        else:
            core, label = self._parse(authorization_id)
            self._answer_slowly(label)
        self._record(core, OperationKind.VOID, idempotency_key, authorization_id or "", 0, "")
        return OperationResult("void_" + self._id("void", core), 0)

    def operation_status(self, idempotency_key: str) -> OperationStatus:
        done = self.operation(idempotency_key)
        return OperationStatus.NOT_FOUND if done is None else done.status

    def operation(self, idempotency_key: str) -> AcquirerOperation | None:
        check_idempotency_key(idempotency_key)
        return self.records.find(idempotency_key)

    def batches(self, through: dt.date, settled: frozenset[str]) -> list[SettlementBatch]:
        """The day's batch (``sim-<day>``, value date the next day): every succeeded capture
        and refund not yet ``settled``, with interchange and scheme fees on captures, and a
        chargeback (with its dispute fee) for every settled capture of a disputed card."""
        lines: list[SettlementLine] = []
        for operation in sorted(self.records.operations(), key=lambda o: o.reference):
            if operation.status is not OperationStatus.SUCCEEDED or not operation.amount:
                continue
            if operation.kind is OperationKind.VOID:
                continue
            lines.extend(self._settlement_lines(operation, settled))
        if not lines:
            return []
        day = (through + dt.timedelta(days=1)).isoformat()
        return [
            SettlementBatch(f"{SIMULATED_BATCH_PREFIX}{through.isoformat()}", day, tuple(lines))
        ]

    def _settlement_lines(
        self, operation: AcquirerOperation, settled: frozenset[str]
    ) -> Iterable[SettlementLine]:
        amount, currency = operation.amount, operation.currency
        if operation.reference not in settled:
            if operation.kind is OperationKind.REFUND:
                yield SettlementLine(SettlementKind.REFUND, operation.reference, amount, currency)
                return
            yield SettlementLine(
                SettlementKind.CAPTURE,
                operation.reference,
                amount,
                currency,
                interchange_fee=_bps_of(amount, SIMULATED_INTERCHANGE_BPS),
                scheme_fee=_bps_of(amount, SIMULATED_SCHEME_BPS),
            )
            return
        if operation.kind is not OperationKind.CAPTURE or not self._disputed(operation):
            return
        core, _ = self._parse(operation.authorization_id)
        dispute = f"{operation.payment_id}:chargeback:dp_{self._id('dispute', core)}"
        if dispute not in settled:
            fee = int(SIMULATED_DISPUTE_FEE.scaleb(minor_units(currency)))
            # The disputed test card is disputed as goods not received (Visa 13.1), a commercial
            # dispute: it does not count in the Art. 19 fraud rate.
            yield SettlementLine(
                SettlementKind.CHARGEBACK,
                dispute,
                amount,
                currency,
                dispute_fee=fee,
                reason_code=SIMULATED_DISPUTE_REASON,
            )

    def _disputed(self, operation: AcquirerOperation) -> bool:
        try:
            return self._parse(operation.authorization_id)[1] == _DISPUTED
        except AcquirerRejectedError:
            return False

    def _received(
        self, kind: str, key: str, authorization_id: str, amount: int, currency: str
    ) -> None:
        self.request_log.received(
            AcquirerRequest(str(kind), key, authorization_id, amount, currency)
        )

    def _answer_slowly(self, label: str) -> None:
        if label == _SLOW:
            self._sleep(self._timeout_s * SLOW_ANSWER_SHARE)

    def _record(
        self,
        core: str,
        kind: OperationKind,
        key: str,
        authorization_id: str,
        amount: int,
        currency: str,
        label: str = _CAPTURABLE,
    ) -> AcquirerOperation:
        # The first call under a key is what the acquirer did; a retry finds it, never adds one.
        operation = AcquirerOperation(kind, key, authorization_id, amount, currency)
        # By the core, not the id: a void by the authorize key names no id.
        first = self.records.claim(core, operation)
        if (first.kind is OperationKind.VOID) != (kind is OperationKind.VOID):
            done = self.records.find(key)
            if done is not None:
                return done  # recorded before authorizations were claimed
            # The claim and the record are two writes: a container that died between them left
            # the first operation decided but unrecorded. Recorded now, so the record always
            # shows what a refusal answers.
            self.records.record(first)
            if first.kind is OperationKind.VOID:
                raise AcquirerRejectedError(
                    ErrorCode.AUTHORIZATION_VOIDED, "The authorization was voided."
                )
            raise AcquirerRejectedError(
                ErrorCode.ALREADY_CAPTURED, "The authorization was captured; refund it."
            )
        done = self.records.record(operation)
        if label == _ANSWERS_LOST and done is operation:
            self._sleep(self._timeout_s)
            raise AcquirerTimeoutError(ErrorCode.TIMEOUT)
        return done

    # -------------------------------------------------------------- ids

    def _mac(self, *parts: str) -> bytes:
        return hmac.new(self._key, "\x1f".join(parts).encode(), hashlib.sha256).digest()

    def _id(self, *parts: str) -> str:
        return _b32(self._mac(*parts)[:_CORE_BYTES])

    def _core(self, authorize_key: str) -> str:
        return self._id("authorization", authorize_key)

    def _tag(self, core: str, label: str) -> str:
        return _b32(self._mac("authorization-tag", core, label)[:_TAG_BYTES])

    def _network_reference(self, core: str) -> str:
        value = int.from_bytes(self._mac("network-reference", core)[:8], "big")
        return str(value % 10**_NETWORK_REFERENCE_DIGITS).zfill(_NETWORK_REFERENCE_DIGITS)

    def _parse(self, authorization_id: str) -> tuple[str, str]:
        """The core of an authorization id this simulator issued, and its card's label (what
        its captures and refunds do)."""
        check_authorization_id(authorization_id)
        body = authorization_id.removeprefix(AUTHORIZATION_PREFIX)
        if body != authorization_id and len(body) == _CORE_CHARS + _TAG_CHARS:
            core, tag = body[:_CORE_CHARS], body[_CORE_CHARS:]
            for label in (_CAPTURABLE, _CAPTURE_FAILS, _ANSWERS_LOST, _DISPUTED, _SLOW):
                if hmac.compare_digest(tag, self._tag(core, label)):
                    return core, label
        raise AcquirerRejectedError(ErrorCode.UNKNOWN_AUTHORIZATION, "No such authorization.")
