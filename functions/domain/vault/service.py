"""The tokenization vault: tokenize, detokenize, erase a customer, re-wrap to new keys.

KMS traffic is bounded by caches, not by traffic: the encrypt side holds one record data key
and one customer-key wrapping key per tenant (each renewed after ``data_key_max_uses`` uses or
``data_key_max_age_seconds``), the decrypt side keeps unwrapped keys in an LRU keyed by
(purpose, tenant, wrapped bytes). Fingerprints and card keys are the exception: one KMS
GenerateMac each per tokenization, by design (below).

Separation of duties (``keys.py``): record data keys use the KMS context ``vault = data-key``,
customer-key wrapping keys ``vault = customer-key``. Tokenize unwraps only the latter (to load a
customer key another container created), so with IAM granting it Decrypt for ``customer-key``
only, it can write records but never read a stored one back. Detokenize needs both.

Fingerprints: ``fingerprint = KMS.GenerateMac(fingerprint key, "vault-fingerprint-v2", tenant,
PAN)``, computed inside KMS over the card itself. No secret that could compute a fingerprint
ever exists outside KMS, so testing a guessed PAN against a fingerprint costs one logged,
throttled KMS call per guess (a secret derived from a public message, as version 1 did, could
be obtained once by anyone allowed GenerateMac and used offline forever). Two tenants never
share a fingerprint for the same card. Fingerprints stay inside the vault (the deduplication
index); callers get none by default.

Card key: ``card_key = KMS.GenerateMac(card-key key, "vault-card-key-v1", PAN)``, the same for a
card across every tenant and customer, for the risk side's per-card counters (velocity, PSD2
Art. 16). Same property: only KMS can compute it. It is returned with the token and kept in the
record (inside the vault) so a payment by stored token gets it too; a reader must never store it
beside the first six digits outside the vault.

Rate limit (finding 5, ``limits.py``): deduplication answers a known card with its token, which
makes tokenize an oracle for card testing (enumerate the middle digits of a card whose first
six and last four are known until the known token comes back). The tokenize function's vault
counts new cards per tenant and card class in a window and, at the limit, refuses every card of
the class, known or new, before looking it up.

Token namespaces: a format-preserving token is unique within its tenant only (the store keys it
by tenant and token, finding 4), so one tenant filling a 6+4 class cannot exhaust it for
another; opaque tokens carry 128 random bits and are unique anyway.

Deduplication: one reusable token per (tenant, customer scope, format, fingerprint). A card
tokenized for two customers of one tenant gets two tokens (with the same fingerprint), so
erasing one customer never breaks the other's token. Without a customer, the tenant-wide
anonymous scope applies: same PAN and tenant give the same token.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hmac
from collections.abc import Callable

from functions.domain.cards import (
    MAX_PAN_LENGTH,
    CardBrand,
    CardValidationError,
    validate_cvc,
    validate_pan,
)

from .errors import (
    CustomerKeyErasedError,
    DetokenizeNotPermittedError,
    InvalidCardError,
    InvalidRequestError,
    TokenizeRateLimitedError,
    TokenNotFoundError,
    TokenSpaceExhaustedError,
    TokenTenantMismatchError,
    VaultError,
    VaultRecordTamperedError,
)
from .keys import (
    KEY_BYTES,
    NONCE_BYTES,
    ActiveDataKey,
    DataKeyCache,
    LruCache,
    customer_key_aad,
    derive_record_key,
    kms_context,
    open_sealed,
    record_aad,
    record_aad_v2,
    seal,
)
from .limits import ClassWindow, class_window
from .model import (
    ANONYMOUS_SCOPE,
    RECORD_VERSION,
    AuditAction,
    AuditEvent,
    Caller,
    CustomerKeyRecord,
    DetokenizeResult,
    ErasureReport,
    FingerprintEntry,
    KeyPurpose,
    MacKey,
    RewrapReport,
    TokenFormat,
    TokenizeResult,
    TokenRecord,
    VaultSettings,
    WrappedKeyRef,
    check_id,
    check_purpose,
    customer_scope,
)
from .ports import (
    AuditSink,
    ClassCounter,
    Clock,
    KeyService,
    RandomSource,
    SystemClock,
    SystemRandom,
    VaultStore,
)
from .tokens import (
    FPE_MIN_PAN_LENGTH,
    new_format_preserving_token,
    new_opaque_token,
    token_format_of,
)

_FINGERPRINT_LABEL = "vault-fingerprint-v2"
_CARD_KEY_LABEL = "vault-card-key-v1"
_PAD = b" "
_OPAQUE_ATTEMPTS = 3  # 128 random bits: a second attempt is already beyond belief
_DEDUP_ATTEMPTS = 3
_MAX_TTL_SECONDS = 10 * 365 * 24 * 3600


class _CustomerKey:
    __slots__ = ("key", "key_id")

    def __init__(self, key_id: str, key: bytes) -> None:
        self.key_id = key_id
        self.key = key

    def __repr__(self) -> str:
        return f"_CustomerKey(key_id={self.key_id!r})"


class Vault:
    """The tokenization service. One instance per container; not thread-safe (Lambda is not
    concurrent within a container)."""

    def __init__(
        self,
        keys: KeyService,
        store: VaultStore,
        audit: AuditSink,
        *,
        settings: VaultSettings | None = None,
        clock: Clock | None = None,
        random: RandomSource | None = None,
        class_counter: ClassCounter | None = None,
    ) -> None:
        """``class_counter``: the shared counters of the tokenize rate limit per tenant and
        card class (``settings.class_limit``, ``limits.py``); without one there is no limit
        (the detokenize and admin functions, which never tokenize)."""
        self._keys = keys
        self._store = store
        self._audit = audit
        self._class_counter = class_counter
        self._settings = settings or VaultSettings()
        self._clock: Clock = clock or SystemClock()
        self._random: RandomSource = random or SystemRandom()
        s = self._settings
        # One encrypt-side cache per purpose: record data keys, customer-key wrapping keys.
        self._active = {
            purpose: DataKeyCache(
                s.data_key_max_age_seconds, s.data_key_max_uses, s.max_cached_tenants
            )
            for purpose in KeyPurpose
        }
        # The purpose is part of the key: a key unwrapped under one context is never handed
        # out for the other, even if a record is edited to carry the other's wrapped bytes.
        self._unwrapped: LruCache[tuple[KeyPurpose, str, bytes], bytes] = LruCache(
            s.decrypt_cache_size, s.decrypt_cache_max_age_seconds
        )
        self._customer_keys: LruCache[tuple[str, str], _CustomerKey] = LruCache(
            s.customer_key_cache_size, s.customer_key_cache_max_age_seconds
        )

    def __repr__(self) -> str:
        return f"Vault(settings={self._settings!r})"

    @property
    def settings(self) -> VaultSettings:
        return self._settings

    # ------------------------------------------------------------------ tokenize

    def tokenize(
        self,
        tenant_id: str,
        number: str,
        *,
        customer_id: str | None = None,
        token_format: TokenFormat = TokenFormat.OPAQUE,
        single_use: bool = False,
        cvc: str | None = None,
        ttl_seconds: int | None = None,
    ) -> TokenizeResult:
        """Validate the card, then return its token (an existing one unless ``single_use``).

        ``cvc``, when given, is checked for form and then dropped: it never reaches a record.
        With a class counter, raises ``TokenizeRateLimitedError`` (429) while the tenant has
        tokenized ``class_limit.max_new_cards`` new cards of the card's class (first six, last
        four, length) in the current window, before the card is looked up or MACed.
        """
        tenant = check_id(tenant_id, "tenant_id")
        scope = customer_scope(customer_id)
        token_format = TokenFormat(token_format)
        try:
            pan, brand = validate_pan(number)
            if cvc is not None:
                validate_cvc(cvc, brand)
        except CardValidationError as exc:
            raise InvalidCardError(exc.code, exc.message, param=exc.param) from None
        del cvc
        if token_format is TokenFormat.FORMAT_PRESERVING and len(pan) < FPE_MIN_PAN_LENGTH:
            # Finding 4: first six and last four in clear would leave too few secret digits.
            raise InvalidRequestError(
                "format_preserving tokens need a card number of at least 16 digits; "
                "use the opaque format",
                param="format",
            )
        now = self._clock.time()
        expires_at: int | None = None
        if ttl_seconds is not None:
            if not 0 < ttl_seconds <= _MAX_TTL_SECONDS:
                raise InvalidRequestError(
                    "ttl_seconds must be positive and at most ten years", param="ttl_seconds"
                )
            expires_at = int(now) + ttl_seconds
        window = self._class_window(tenant, pan, now)
        result = self._tokenize(
            tenant, scope, pan, brand, token_format, single_use, now, expires_at
        )
        if window is not None and self._class_counter is not None and result.created:
            self._class_counter.add_to_class_count(window.key, window.expires_at)
        return result

    def _class_window(self, tenant: str, pan: str, now: float) -> ClassWindow | None:
        """The tenant's counter for the card's class, refusing the card when the class has
        reached its limit (finding 5). Checked before the card is looked up, so that a known
        card and a new one of the class get the same answer. None without a counter."""
        if self._class_counter is None:
            return None
        limit = self._settings.class_limit
        window = class_window(tenant, pan, now, limit)
        if self._class_counter.class_count(window.key) >= limit.max_new_cards:
            raise TokenizeRateLimitedError()
        return window

    def _tokenize(
        self,
        tenant: str,
        scope: str,
        pan: str,
        brand: CardBrand,
        token_format: TokenFormat,
        single_use: bool,
        now: float,
        expires_at: int | None,
    ) -> TokenizeResult:
        fingerprint = self._fingerprint(tenant, pan)
        card_key: str | None = None

        if single_use:
            card_key = self._card_key(pan)
            record = self._new_record(
                tenant,
                scope,
                pan,
                brand,
                token_format,
                True,
                fingerprint,
                card_key,
                now,
                expires_at,
            )
            return _result(record, created=True)

        for _ in range(_DEDUP_ATTEMPTS):
            existing = self._store.find_by_fingerprint(tenant, scope, token_format, fingerprint)
            if existing is not None:
                found = self._live_record(existing, tenant, scope, token_format, fingerprint, now)
                if found is not None:
                    return _result(
                        found, created=False, card_key=found.card_key or self._card_key(pan)
                    )
                self._store.release_fingerprint(
                    FingerprintEntry(tenant, scope, token_format, fingerprint, existing)
                )
            card_key = card_key or self._card_key(pan)
            record = self._new_record(
                tenant,
                scope,
                pan,
                brand,
                token_format,
                False,
                fingerprint,
                card_key,
                now,
                expires_at,
            )
            entry = FingerprintEntry(
                tenant, scope, token_format, fingerprint, record.token, expires_at
            )
            winner = self._store.claim_fingerprint(entry)
            if winner is None:
                return _result(record, created=True)
            # Another request tokenized the same card at the same moment: keep theirs.
            self._store.delete_token(tenant, record.token)
            found = self._live_record(winner, tenant, scope, token_format, fingerprint, now)
            if found is not None:
                return _result(found, created=False, card_key=found.card_key or card_key)
            self._store.release_fingerprint(
                FingerprintEntry(tenant, scope, token_format, fingerprint, winner)
            )
        raise InvalidRequestError("The card could not be tokenized; retry the request.")

    def fingerprint(self, tenant_id: str, number: str) -> str:
        """The tenant's fingerprint of a card, without tokenizing it."""
        tenant = check_id(tenant_id, "tenant_id")
        try:
            pan, _ = validate_pan(number)
        except CardValidationError as exc:
            raise InvalidCardError(exc.code, exc.message, param=exc.param) from None
        return self._fingerprint(tenant, pan)

    # ---------------------------------------------------------------- detokenize

    def describe(self, tenant_id: str, token: str) -> TokenRecord:
        """A token's metadata (brand, last four, fingerprint) for a payment made with a stored
        token. Nothing is decrypted, so the tokenize function may call it."""
        tenant = check_id(tenant_id, "tenant_id")
        record = self._store.get_token(tenant, token) if token_format_of(token) else None
        if record is None or _expired(record, self._clock.time()):
            raise TokenNotFoundError()
        if record.tenant_id != tenant:
            raise TokenTenantMismatchError()
        return record

    def detokenize(
        self,
        tenant_id: str,
        token: str,
        *,
        caller: Caller,
        purpose: str,
        request_id: str | None = None,
    ) -> DetokenizeResult:
        """Return the card behind ``token``. Every call, allowed or not, emits an audit event."""
        now = self._clock.time()
        # Only a string that has the form of a vault token is ever written to the audit trail:
        # a card number sent by mistake in place of a token fails Luhn-invalidity and is dropped.
        audited_token = token if isinstance(token, str) and token_format_of(token) else None
        tenant: str | None = None
        checked_purpose: str | None = None
        try:
            tenant = check_id(tenant_id, "tenant_id")
            valid_purpose = check_purpose(purpose)
            if self._settings.detokenize_role not in caller.roles:
                raise DetokenizeNotPermittedError()
            # Only a permitted caller's purpose is audited (finding 11): a refused caller's
            # text is not written into a log kept for years, whatever it says.
            checked_purpose = valid_purpose
            if audited_token is None:
                raise TokenNotFoundError()
            record = self._store.get_token(tenant, audited_token)
            if record is None or _expired(record, now):
                raise TokenNotFoundError()
            if record.tenant_id != tenant:
                raise TokenTenantMismatchError()
            pan = self._decrypt(record, now)
        except VaultError as exc:
            self._audit_refusal(
                exc, tenant, caller, now, audited_token, checked_purpose, request_id
            )
            raise
        # Audit first, consume after (finding 8): when the audit write fails the caller gets
        # nothing and a single-use token is still there for the next, audited, attempt.
        self._audit.emit(
            AuditEvent(
                action=AuditAction.DETOKENIZE,
                tenant_id=tenant,
                actor=caller.principal,
                at=_at(now),
                outcome="success",
                token=record.token,
                purpose=checked_purpose,
                customer_id=_customer_id(record.scope),
                request_id=request_id,
                details={"single_use": int(record.single_use)},
            )
        )
        if record.single_use and not self._store.delete_token(tenant, record.token):
            # A concurrent call consumed it after our audit: only one caller gets the card.
            refused = TokenNotFoundError()
            self._audit_refusal(
                refused, tenant, caller, now, audited_token, checked_purpose, request_id
            )
            raise refused
        return DetokenizeResult(
            token=record.token, number=pan, brand=record.brand, last4=record.last4
        )

    def _audit_refusal(
        self,
        exc: VaultError,
        tenant: str | None,
        caller: Caller,
        now: float,
        token: str | None,
        purpose: str | None,
        request_id: str | None,
    ) -> None:
        self._audit.emit(
            AuditEvent(
                action=AuditAction.DETOKENIZE,
                tenant_id=tenant,
                actor=caller.principal,
                at=_at(now),
                outcome="denied" if isinstance(exc, DetokenizeNotPermittedError) else "failure",
                reason=exc.code,
                token=token,
                purpose=purpose,
                request_id=request_id,
            )
        )

    # ------------------------------------------------------------------- erasure

    def erase_customer(
        self, tenant_id: str, customer_id: str, *, caller: Caller, request_id: str | None = None
    ) -> ErasureReport:
        """Crypto-shred a customer: delete the customer key, then the tokens and index entries.

        The guarantee (finding 2), with the store keeping customer keys in a table without
        backups (the Terraform module's key table): when this returns, no copy of the
        customer's records (a restore of the vault table, a replica, a record the index had not
        listed yet and so survived the purge) can be decrypted by a cold container, and a warm
        container's cached customer key expires within ``customer_key_cache_max_age_seconds``
        (300 s by default): that is the time bound. A record written under the erased key
        does not stand: the store checks the key as it writes and takes the record back. A key
        moved out of the vault table when the key table was introduced stays in that table's
        point-in-time backups until they age out (35 days). Idempotent: run it again after a
        partial failure.
        """
        tenant = check_id(tenant_id, "tenant_id")
        scope = check_id(customer_id, "customer_id")
        now = self._clock.time()
        key_deleted = False
        deleted = 0
        try:
            key_deleted = self._store.delete_customer_key(tenant, scope)
            self._customer_keys.pop((tenant, scope))
            deleted = self._store.purge_customer(tenant, scope)
        except VaultError as exc:
            self._audit.emit(
                AuditEvent(
                    action=AuditAction.ERASE_CUSTOMER,
                    tenant_id=tenant,
                    actor=caller.principal,
                    at=_at(now),
                    outcome="failure",
                    reason=exc.code,
                    customer_id=scope,
                    request_id=request_id,
                    details={"customer_key_deleted": int(key_deleted)},
                )
            )
            raise
        event = AuditEvent(
            action=AuditAction.ERASE_CUSTOMER,
            tenant_id=tenant,
            actor=caller.principal,
            at=_at(now),
            outcome="success",
            customer_id=scope,
            request_id=request_id,
            details={"customer_key_deleted": int(key_deleted), "items_deleted": deleted},
        )
        self._audit.emit(event)
        return ErasureReport(tenant, scope, key_deleted, deleted, event)

    # -------------------------------------------------------------------- rewrap

    def rewrap(
        self,
        *,
        caller: Caller,
        issued_before: int | None = None,
        request_id: str | None = None,
    ) -> RewrapReport:
        """Move customer keys and records to the current KMS key and current tenant data keys.

        Both kinds of wrapped keys are covered: customer keys are re-wrapped under a current
        wrapping key (``vault = customer-key``), token records are re-sealed under a current
        record data key (``vault = data-key``). An item is moved when its KMS key differs from
        the key the tenant now encrypts with (after a KMS key change), when its data key was
        issued before ``issued_before`` (epoch seconds), or (customer keys) when it is still
        wrapped under a record data key (written before the contexts were separated). Each
        item is replaced conditionally on its old wrapped key, so concurrent writers win and
        readers never see a half-moved record: every item carries the key reference it was
        written with, old and new coexist.
        """
        now = self._clock.time()
        # Start from fresh data keys so that records move to the key service's current key.
        for cache in self._active.values():
            cache.clear()
        counts = {"customer_keys": 0, "tokens": 0, "skipped": 0, "failed": 0, "orphaned": 0}
        for stored in self._store.scan_customer_keys():
            active = self._active_data_key(
                stored.tenant_id, now, issued_before, KeyPurpose.CUSTOMER_KEY
            )
            if stored.wrap_context is KeyPurpose.CUSTOMER_KEY and not _needs_rewrap(
                stored.key, active, issued_before
            ):
                continue
            try:
                plain = self._unwrap_customer_key(stored, now)
            except VaultError:
                counts["failed"] += 1
                continue
            rewrapped = self._wrap_customer_key(
                stored.tenant_id, stored.scope, stored.key_id, plain, active, now
            )
            if self._store.replace_customer_key(rewrapped, stored.key.wrapped_data_key):
                counts["customer_keys"] += 1
            else:
                counts["skipped"] += 1
        for record in self._store.scan_tokens():
            if _expired(record, now):
                continue
            active = self._active_data_key(record.tenant_id, now, issued_before)
            # Version 1 records (metadata outside the authenticated data) are migrated too.
            if record.version >= RECORD_VERSION and not _needs_rewrap(
                record.key, active, issued_before
            ):
                continue
            try:
                pan = self._decrypt(record, now)
                ck = self._customer_key_for_read(
                    record.tenant_id, record.scope, record.customer_key_id, now
                )
            except CustomerKeyErasedError:
                # Shredded already (the erasure's index query had not listed it): not tamper.
                counts["orphaned"] += int(self._store.delete_token(record.tenant_id, record.token))
                continue
            except VaultError:
                counts["failed"] += 1
                continue
            moved = self._seal_record(
                record.tenant_id,
                record.scope,
                record.token,
                pan,
                active,
                ck,
                record,
            )
            if self._store.replace_token(moved, record.key.wrapped_data_key):
                counts["tokens"] += 1
            else:
                counts["skipped"] += 1
        event = AuditEvent(
            action=AuditAction.REWRAP,
            tenant_id=None,
            actor=caller.principal,
            at=_at(now),
            outcome="success" if counts["failed"] == 0 else "failure",
            reason=None if counts["failed"] == 0 else VaultRecordTamperedError.code,
            request_id=request_id,
            details=dict(counts),
        )
        self._audit.emit(event)
        return RewrapReport(
            counts["customer_keys"],
            counts["tokens"],
            counts["skipped"],
            counts["failed"],
            event,
            orphaned=counts["orphaned"],
        )

    # ------------------------------------------------------------------ internals

    def _fingerprint(self, tenant: str, pan: str) -> str:
        """One KMS call over the card: nothing that could compute it offline exists."""
        mac = self._keys.generate_mac(
            MacKey.FINGERPRINT, _mac_message(_FINGERPRINT_LABEL, tenant, pan)
        )
        return "fp_" + _b64(mac)

    def _card_key(self, pan: str) -> str:
        """The platform-wide card key: one KMS call over the card, under its own HMAC key."""
        return "ck_" + _b64(
            self._keys.generate_mac(MacKey.CARD_KEY, _mac_message(_CARD_KEY_LABEL, pan))
        )

    def _active_data_key(
        self,
        tenant: str,
        now: float,
        issued_before: int | None = None,
        purpose: KeyPurpose = KeyPurpose.RECORD,
    ) -> ActiveDataKey:
        """The tenant's current data key for ``purpose`` (a record data key by default)."""
        cache = self._active[purpose]
        active = cache.take(tenant, now)
        if active is not None and (issued_before is None or active.issued_at >= issued_before):
            return active
        generated = self._keys.generate_data_key(kms_context(purpose, tenant))
        active = ActiveDataKey(
            plaintext=generated.plaintext,
            wrapped=generated.wrapped,
            kms_key_id=generated.key_id,
            issued_at=float(int(now)),
        )
        cache.install(tenant, active, now)
        self._unwrapped.put((purpose, tenant, generated.wrapped), generated.plaintext, now)
        return active

    def _unwrap_data_key(
        self, tenant: str, ref: WrappedKeyRef, now: float, purpose: KeyPurpose = KeyPurpose.RECORD
    ) -> bytes:
        cache_key = (purpose, tenant, ref.wrapped_data_key)
        plain = self._unwrapped.get(cache_key, now)
        if plain is None:
            plain = self._keys.decrypt_data_key(
                ref.kms_key_id, ref.wrapped_data_key, kms_context(purpose, tenant)
            )
            if len(plain) != KEY_BYTES:
                raise VaultRecordTamperedError()
            self._unwrapped.put(cache_key, plain, now)
        return plain

    def _wrap_customer_key(
        self,
        tenant: str,
        scope: str,
        key_id: str,
        plain: bytes,
        wrapping: ActiveDataKey,
        now: float,
    ) -> CustomerKeyRecord:
        """Seal a customer key under a wrapping key (``KeyPurpose.CUSTOMER_KEY``)."""
        nonce = self._random.token_bytes(NONCE_BYTES)
        return CustomerKeyRecord(
            tenant_id=tenant,
            scope=scope,
            key_id=key_id,
            key=WrappedKeyRef(wrapping.kms_key_id, wrapping.wrapped, int(wrapping.issued_at)),
            nonce=nonce,
            wrapped_key=seal(
                wrapping.plaintext, nonce, plain, customer_key_aad(tenant, scope, key_id)
            ),
            created_at=int(now),
            wrap_context=KeyPurpose.CUSTOMER_KEY,
        )

    def _unwrap_customer_key(self, record: CustomerKeyRecord, now: float) -> bytes:
        wk = self._unwrap_data_key(record.tenant_id, record.key, now, record.wrap_context)
        return open_sealed(
            wk,
            record.nonce,
            record.wrapped_key,
            customer_key_aad(record.tenant_id, record.scope, record.key_id),
        )

    def _customer_key_for_write(self, tenant: str, scope: str, now: float) -> _CustomerKey:
        cached = self._customer_keys.get((tenant, scope), now)
        if cached is not None:
            return cached
        stored = self._store.get_customer_key(tenant, scope)
        if stored is None:
            key_id = _b64(self._random.token_bytes(12))
            plain = self._random.token_bytes(KEY_BYTES)
            wrapping = self._active_data_key(tenant, now, purpose=KeyPurpose.CUSTOMER_KEY)
            record = self._wrap_customer_key(tenant, scope, key_id, plain, wrapping, now)
            if self._store.put_customer_key_if_absent(record):
                fresh = _CustomerKey(key_id, plain)
                self._customer_keys.put((tenant, scope), fresh, now)
                return fresh
            stored = self._store.get_customer_key(tenant, scope)
            if stored is None:
                raise InvalidRequestError("The customer is being erased; retry the request.")
        loaded = _CustomerKey(stored.key_id, self._unwrap_customer_key(stored, now))
        self._customer_keys.put((tenant, scope), loaded, now)
        return loaded

    def _customer_key_for_read(
        self, tenant: str, scope: str, key_id: str, now: float
    ) -> _CustomerKey:
        cached = self._customer_keys.get((tenant, scope), now)
        if cached is not None and cached.key_id == key_id:
            return cached
        stored = self._store.get_customer_key(tenant, scope)
        if stored is None or stored.key_id != key_id:
            raise CustomerKeyErasedError()
        loaded = _CustomerKey(stored.key_id, self._unwrap_customer_key(stored, now))
        self._customer_keys.put((tenant, scope), loaded, now)
        return loaded

    def _seal_record(
        self,
        tenant: str,
        scope: str,
        token: str,
        pan: str,
        active: ActiveDataKey,
        ck: _CustomerKey,
        template: TokenRecord,
    ) -> TokenRecord:
        key = derive_record_key(active.plaintext, ck.key, tenant, scope, token, ck.key_id)
        nonce = self._random.token_bytes(NONCE_BYTES)
        record = dataclasses.replace(
            template,
            token=token,
            tenant_id=tenant,
            scope=scope,
            key=WrappedKeyRef(active.kms_key_id, active.wrapped, int(active.issued_at)),
            customer_key_id=ck.key_id,
            nonce=nonce,
            ciphertext=b"",
            version=RECORD_VERSION,
        )
        # Version 2 pads the PAN to the longest card number: the ciphertext length no longer
        # tells a 15-digit card from a 16-digit one.
        plaintext = pan.encode().ljust(MAX_PAN_LENGTH, _PAD)
        return dataclasses.replace(record, ciphertext=seal(key, nonce, plaintext, _aad(record)))

    def _new_record(
        self,
        tenant: str,
        scope: str,
        pan: str,
        brand: CardBrand,
        token_format: TokenFormat,
        single_use: bool,
        fingerprint: str,
        card_key: str,
        now: float,
        expires_at: int | None,
    ) -> TokenRecord:
        active = self._active_data_key(tenant, now)
        template = TokenRecord(
            token="",
            tenant_id=tenant,
            scope=scope,
            token_format=token_format,
            single_use=single_use,
            fingerprint=fingerprint,
            brand=brand,
            last4=pan[-4:],
            key=WrappedKeyRef(active.kms_key_id, active.wrapped, int(active.issued_at)),
            customer_key_id="",
            nonce=b"",
            ciphertext=b"",
            created_at=int(now),
            expires_at=expires_at,
            card_key=card_key,
        )
        for _ in range(2):
            try:
                return self._seal_and_put(pan, template, active, now)
            except CustomerKeyErasedError:
                # The customer key this container had cached was erased meanwhile (finding 6):
                # forget it and seal under the customer's current key, created afresh if needed.
                self._customer_keys.pop((tenant, scope))
        raise InvalidRequestError("The customer is being erased; retry the request.")

    def _seal_and_put(
        self, pan: str, template: TokenRecord, active: ActiveDataKey, now: float
    ) -> TokenRecord:
        """Seal under the customer's key and write, conditional on that key still existing."""
        tenant, scope = template.tenant_id, template.scope
        ck = self._customer_key_for_write(tenant, scope, now)
        attempts: int
        make: Callable[[], str]
        if template.token_format is TokenFormat.FORMAT_PRESERVING:
            attempts = self._settings.fpe_max_attempts
            make = lambda: new_format_preserving_token(pan, self._random)  # noqa: E731
        else:
            attempts = _OPAQUE_ATTEMPTS
            make = lambda: new_opaque_token(self._random)  # noqa: E731
        for _ in range(attempts):
            token = make()
            if hmac.compare_digest(token, pan):  # impossible by construction; never allow it
                continue
            record = self._seal_record(tenant, scope, token, pan, active, ck, template)
            if self._store.put_token_if_absent(record):
                return record
        raise TokenSpaceExhaustedError()

    def _decrypt(self, record: TokenRecord, now: float) -> str:
        dk = self._unwrap_data_key(record.tenant_id, record.key, now)
        ck = self._customer_key_for_read(
            record.tenant_id, record.scope, record.customer_key_id, now
        )
        key = derive_record_key(dk, ck.key, record.tenant_id, record.scope, record.token, ck.key_id)
        plain = open_sealed(key, record.nonce, record.ciphertext, _aad(record))
        if record.version >= 2:
            plain = plain.rstrip(_PAD)
        pan = plain.decode("ascii", errors="replace")
        if not pan.isdigit() or pan[-4:] != record.last4:
            raise VaultRecordTamperedError()
        return pan

    def _live_record(
        self,
        token: str,
        tenant: str,
        scope: str,
        token_format: TokenFormat,
        fingerprint: str,
        now: float,
    ) -> TokenRecord | None:
        """The record a deduplication index entry points at, if it is this card's live record.

        The entry is not trusted (finding 7): the record must belong to the same tenant,
        customer scope, format and fingerprint (a repointed entry would hand out another
        customer's token for another card). And its customer key must still exist (finding 6):
        a record whose key was shredded is dead, and returning its token would make the card
        unchargeable forever.
        """
        record = self._store.get_token(tenant, token)
        if (
            record is None
            or record.tenant_id != tenant
            or record.scope != scope
            or record.token_format is not token_format
            or not hmac.compare_digest(record.fingerprint, fingerprint)
            or _expired(record, now)
        ):
            return None
        stored_key = self._store.get_customer_key(tenant, scope)
        if stored_key is None or stored_key.key_id != record.customer_key_id:
            return None
        return record


def _needs_rewrap(ref: WrappedKeyRef, active: ActiveDataKey, issued_before: int | None) -> bool:
    if ref.kms_key_id != active.kms_key_id:
        return True
    return issued_before is not None and ref.issued_at < issued_before


def _expired(record: TokenRecord, now: float) -> bool:
    return record.expires_at is not None and record.expires_at <= now


def _aad(record: TokenRecord) -> bytes:
    """The authenticated data of a record, by its version."""
    if record.version < 2:
        return record_aad(record.tenant_id, record.scope, record.token, record.customer_key_id)
    return record_aad_v2(
        record.tenant_id,
        record.scope,
        record.token,
        record.customer_key_id,
        token_format=record.token_format.value,
        single_use=record.single_use,
        expires_at=record.expires_at,
        fingerprint=record.fingerprint,
        card_key=record.card_key,
        brand=record.brand.value,
        last4=record.last4,
    )


def _mac_message(label: str, *parts: str) -> bytes:
    # "\x1f" cannot occur in a label, a tenant id or a PAN: the message is unambiguous.
    return "\x1f".join((label, *parts)).encode()


def _result(record: TokenRecord, *, created: bool, card_key: str | None = None) -> TokenizeResult:
    return TokenizeResult(
        token=record.token,
        brand=record.brand,
        last4=record.last4,
        fingerprint=record.fingerprint,
        token_format=record.token_format,
        single_use=record.single_use,
        created=created,
        card_key=card_key or record.card_key,
    )


def _customer_id(scope: str) -> str | None:
    return None if scope == ANONYMOUS_SCOPE else scope


def _at(now: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(now, tz=dt.UTC)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
