"""Vault errors: one class per outcome, each with an error code and an HTTP status hint.

Messages are fixed strings. No card number, CVC, key material or ciphertext is ever put into
an error: handlers may log ``code`` and return ``public_code`` and ``message`` as they are.

``code`` is what the vault knows (for audit records and logs). ``public_code`` is what a caller
may be told: a token owned by another tenant, or one whose customer was erased, is reported to
the caller exactly like an unknown token, so the API is no oracle for which tokens exist.
"""

from __future__ import annotations

from typing import ClassVar


class VaultError(Exception):
    """Base of every vault failure."""

    code: str = "vault_error"
    public_code: str = "api_error"
    http_status: int = 500
    default_message: ClassVar[str] = "The vault could not complete the request."

    def __init__(self, message: str | None = None, *, param: str | None = None) -> None:
        self.message = message or self.default_message
        self.param = param
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, param={self.param!r})"


class InvalidRequestError(VaultError):
    code = public_code = "invalid_request"
    http_status = 400
    default_message = "The request is not valid."


class InvalidCardError(VaultError):
    """The card number failed validation (``functions.domain.cards``)."""

    http_status = 400

    def __init__(self, code: str, message: str, *, param: str | None = None) -> None:
        super().__init__(message, param=param)
        self.code = code
        self.public_code = code


class TokenNotFoundError(VaultError):
    code = public_code = "token_not_found"
    http_status = 404
    default_message = "No such token."


class TokenTenantMismatchError(TokenNotFoundError):
    """The token exists but belongs to another tenant: told to the caller as not found."""

    code = "token_tenant_mismatch"


class CustomerKeyErasedError(TokenNotFoundError):
    """The record's customer key is gone (crypto-shredded): told to the caller as not found."""

    code = "customer_key_erased"


class VaultRecordTamperedError(VaultError):
    """An authentication tag failed: the record (or its wrapped key) was altered or moved.

    Reported (audit, alarm), never explained to the caller: the public code is a generic error.
    """

    code = "vault_record_tampered"
    public_code = "api_error"
    http_status = 500


class DetokenizeNotPermittedError(VaultError):
    code = public_code = "detokenize_not_permitted"
    http_status = 403
    default_message = "The caller is not permitted to detokenize."


class TokenSpaceExhaustedError(VaultError):
    """No free format-preserving token was found in the allowed number of attempts."""

    code = public_code = "token_space_exhausted"
    http_status = 409
    default_message = "No free format-preserving token is available for this card; use opaque."


class TokenizeRateLimitedError(VaultError):
    """Too many new cards of one card class (first six, last four, length) for this tenant in
    the current window (finding 5: tokenize as a card-testing oracle). Every tokenization of the
    class is refused until the window ends; the message names no card, class or count."""

    code = public_code = "tokenize_rate_limited"
    http_status = 429
    default_message = (
        "Too many new cards of this card range for this merchant; retry later or contact support."
    )


class VaultUnavailableError(VaultError):
    """A dependency (KMS, the table) failed or throttled: retry later."""

    code = public_code = "vault_unavailable"
    http_status = 503
    default_message = "The vault is temporarily unavailable."
