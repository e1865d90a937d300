# Three tables, each on demand, encrypted with the customer-managed application key, with
# point-in-time recovery and (unless turned off for a throwaway environment) deletion protection.
# None holds a card number: payments carry the vault token, brand and last four digits.

# One item per payment (status, amounts, token, brand, last4, fraud and SCA outcome). The
# indexes feed the fraud velocity rules: payments per card and per device in a window. by_card is
# keyed on platform_card_key (the vault's card key, a KMS MAC of the card number, the same at
# every customer and merchant; the token only for a card tokenized before card keys existed),
# not on the token: a token is per customer and merchant, so a card tester rotating customer.id
# never reached the velocity limit (issue 18, finding 9). DynamoDB cannot change an index's key
# in place: on a table created with the token-keyed by_card, the apply deletes and rebuilds the
# index, and card velocity queries fail until it is ACTIVE (the assess step errors and the
# payment is not made): apply it outside peak hours.
resource "aws_dynamodb_table" "payments" {
  name                        = "${var.name_prefix}-payments"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "payment_id"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "payment_id"
    type = "S"
  }

  attribute {
    name = "platform_card_key"
    type = "S"
  }

  attribute {
    name = "device_id"
    type = "S"
  }

  attribute {
    name = "created_at"
    type = "S"
  }

  attribute {
    name = "update_key"
    type = "S"
  }

  attribute {
    name = "updated_at"
    type = "S"
  }

  attribute {
    name = "open_key"
    type = "S"
  }

  attribute {
    name = "open_at"
    type = "S"
  }

  attribute {
    name = "merchant_id"
    type = "S"
  }

  global_secondary_index {
    name            = "by_card"
    hash_key        = "platform_card_key"
    range_key       = "created_at"
    projection_type = "KEYS_ONLY"
  }

  global_secondary_index {
    name            = "by_device"
    hash_key        = "device_id"
    range_key       = "created_at"
    projection_type = "KEYS_ONLY"
  }

  # The reconciliation's reads (docs/ledger.md, "Reconciliation at volume"). by_update: what
  # changed in a window, keyed upd#<hour>#<shard> (4 shards, so a busy hour is not one hot
  # partition key) and sorted by updated_at; the acquirer simulator's operation records share
  # it as acq#<hour>#<shard>. open_holds is sparse: only a payment that keeps a hold open
  # (authorizing, authorized, a challenge, a pending capture or refund) carries open_key, so
  # the sweeper's queries read what may be due and nothing else. ALL: the run needs the whole
  # record, and a projection of keys would cost a read per payment.
  global_secondary_index {
    name            = "by_update"
    hash_key        = "update_key"
    range_key       = "updated_at"
    projection_type = "ALL"
  }

  global_secondary_index {
    name            = "open_holds"
    hash_key        = "open_key"
    range_key       = "open_at"
    projection_type = "ALL"
  }

  # GET /v1/payments: a merchant's payments newest first (functions.domain.payment_listing).
  # KEYS_ONLY because neither key ever changes: the entry is written once, when the payment is
  # first recorded (1 write unit), and no later write of the payment touches it; projecting the
  # status or the whole record would write the index again on every change (ADR 0003 prices
  # both). The list reads the records it answers with BatchGetItem. Sparse: only payment
  # records carry both merchant_id and created_at (mandates and counters have no created_at).
  global_secondary_index {
    name            = "by_merchant"
    hash_key        = "merchant_id"
    range_key       = "created_at"
    projection_type = "KEYS_ONLY"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.data_kms_key_arn
  }

  tags = local.table_tags
}

# Powertools idempotency records (functions.handlers.payments_api): key attribute "id" and
# expiry "expiration", the library's defaults. The function sets the expiry; TTL removes the
# record, together with the stored response (PCI DSS 3.2.1: keep no more than needed).
resource "aws_dynamodb_table" "idempotency" {
  name                        = "${var.name_prefix}-idempotency"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "id"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "id"
    type = "S"
  }

  ttl {
    enabled        = true
    attribute_name = "expiration"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.data_kms_key_arn
  }

  # Purpose tells the compliance scan which retention rules apply (CKV_PCI_014), not the name.
  tags = merge(local.table_tags, { Purpose = "idempotency" })
}

# The double-entry ledger (functions.adapters.ledger_table, written by process_payment and the
# reconciliation): journal entries and each payment's position under pk/sk, written only in
# DynamoDB transactions; balances are sums of the entries. Never expires.
resource "aws_dynamodb_table" "ledger" {
  name                        = "${var.name_prefix}-ledger"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  attribute {
    name = "recorded_key"
    type = "S"
  }

  attribute {
    name = "recorded_at"
    type = "S"
  }

  # The reconciliation's check for entries of no payment (docs/ledger.md, "Reconciliation at
  # volume"): a payment's entries by when they were written, keyed led#<hour>#<shard> as
  # by_update is. Sparse (settlement and payout entries carry no key) and KEYS_ONLY: the run
  # needs only the entry's partition, and a later update of a position never writes the index
  # again (ADR 0003 counts its write unit).
  global_secondary_index {
    name            = "by_recorded"
    hash_key        = "recorded_key"
    range_key       = "recorded_at"
    projection_type = "KEYS_ONLY"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.data_kms_key_arn
  }

  # Purpose tells the compliance scan which recovery rules apply (CKV_PCI_015), not the name.
  tags = merge(local.table_tags, { Purpose = "ledger" })
}
