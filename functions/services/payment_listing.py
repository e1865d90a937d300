"""``GET /v1/payments``: the caller's payments, newest first, a page at a time
(``domain.payment_listing`` holds the rules and the cursor; this is the use case over the
payments table's ``by_merchant`` index).

The merchant is the one the caller's API key authenticated, never a parameter: no query can
name another merchant, and a cursor issued to another merchant (or for other filters) is a 400
naming ``cursor``. An unknown or repeated query parameter is a 400 naming it, so that a typo in
a filter never silently lists everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from functions.contracts.steps import PaymentView
from functions.domain.payment_listing import (
    Cursor,
    InvalidCursorError,
    ListFilter,
    PaymentIndex,
    instant,
    read_page,
)
from functions.domain.payments import PaymentStatus
from functions.errors import ApiError, from_validation_error, merchant_not_permitted
from functions.models.payments import LIST_PARAMETERS, ListPaymentsQuery
from functions.models.tokens import ApiProblem

LIST_URL = "/v1/payments"
# How many index positions one filtered request may look at before it answers a short page
# with a cursor: bounds a request's reads when the status asked for is rare.
MAX_EXAMINED = 1_000


class PaymentList(BaseModel):
    """The answer: a page of payment objects and, when more may follow, the cursor for the
    next request (``has_more`` true)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    object: Literal["list"] = "list"
    url: str = LIST_URL
    data: list[PaymentView]
    has_more: bool
    next_cursor: str | None

    def json_body(self) -> dict[str, Any]:
        # Each payment exactly as GET /v1/payments/{id} answers it (its unset fields left out).
        return self.model_dump(mode="json", exclude={"data"}) | {
            "data": [view.model_dump(mode="json", exclude_unset=True) for view in self.data]
        }


def check_parameters(names: Mapping[str, Sequence[str]] | None) -> None:
    """Every query parameter known and given once (API Gateway's multi-value form)."""
    for name, values in (names or {}).items():
        if name not in LIST_PARAMETERS:
            raise ApiProblem(
                ApiError(
                    "invalid_request_error",
                    "parameter_unknown",
                    f"{name} is not a recognised parameter.",
                    name,
                )
            )
        if len(values) > 1:
            raise ApiProblem(
                ApiError(
                    "invalid_request_error",
                    "parameter_invalid",
                    f"{name} may be given once.",
                    name,
                )
            )


def list_query(**values: object) -> ListPaymentsQuery:
    """The query from its parameters, each already of its type (the route declares them): what
    is left to check is how they go together (``created[lte]`` not before ``created[gte]``)."""
    # By the parameters' names (the fields' aliases), so that an error names created[lte].
    fields = ListPaymentsQuery.model_fields
    named = {fields[k].alias or k if k in fields else k: v for k, v in values.items()}
    try:
        return ListPaymentsQuery.model_validate(named)
    except ValidationError as error:
        raise ApiProblem(from_validation_error(error)) from None


class PaymentListing:
    def __init__(self, index: PaymentIndex, max_examined: int = MAX_EXAMINED) -> None:
        self._index = index
        self._max_examined = max_examined

    def list(self, caller: str, query: ListPaymentsQuery) -> PaymentList:
        if not caller:
            # Only a route without the authorizer names no merchant: never list "everyone's".
            raise ApiProblem(merchant_not_permitted("merchant_id"))
        within = ListFilter(
            status=None if query.status is None else PaymentStatus(query.status),
            created_from=None if query.created_gte is None else instant(query.created_gte),
            created_to=None if query.created_lte is None else instant(query.created_lte),
        )
        after = None
        if query.cursor is not None:
            try:
                after = Cursor.decode(query.cursor, caller, within).after
            except InvalidCursorError:
                raise ApiProblem(
                    ApiError(
                        "invalid_request_error",
                        "parameter_invalid",
                        "cursor must be a next_cursor this API answered for the same "
                        "status and created filters.",
                        "cursor",
                    )
                ) from None
        page = read_page(self._index, caller, within, after, query.limit, self._max_examined)
        return PaymentList(
            data=_views(p.view() for p in page.payments),
            has_more=page.next_after is not None,
            next_cursor=None
            if page.next_after is None
            else Cursor(caller, within, page.next_after).encode(),
        )


def _views(views: Iterable[dict[str, Any]]) -> list[PaymentView]:
    return [PaymentView.model_validate(view) for view in views]
