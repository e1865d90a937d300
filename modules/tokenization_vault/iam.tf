# Least privilege per role (no wildcard actions; every statement names its key, table, log
# group or bus). Only detokenize and admin may write the audit trail; tokenize cannot audit
# and therefore cannot detokenize through the domain.
#
# Separation by encryption context (README "Key hierarchy"): record data keys are wrapped with
# {vault = "data-key"}, the keys that wrap customer keys with {vault = "customer-key"}.
# Tokenize may generate both but Decrypt only "customer-key" (to load a customer key another
# container created): it can never unwrap a stored record's data key, so it cannot decrypt a
# card it did not just see. Detokenize and admin may Decrypt both.

locals {
  table_arn     = aws_dynamodb_table.this.arn
  key_table_arn = aws_dynamodb_table.keys.arn

  # Which items of the vault tables a statement reaches, by partition key prefix (finding 7):
  # T# token records, F# deduplication index entries, C# customer keys (the key table holds
  # nothing else; in the vault table, those written before the key table existed), R# the
  # tokenize rate limit's counters per tenant and card class (finding 5). Every item-level grant
  # on either table carries one (CKV_PCI_020); Scan and the index Query cannot be bounded by key.
  leading_keys = {
    for name, prefixes in {
      records           = ["T#*"]
      records_and_index = ["T#*", "F#*"]
      records_and_keys  = ["T#*", "C#*"]
      any_vault_item    = ["T#*", "F#*", "C#*"]
      customer_keys     = ["C#*"]
      class_counters    = ["R#*"]
    } : name => { test = "ForAllValues:StringLike", variable = "dynamodb:LeadingKeys", values = prefixes }
  }

  # The table is encrypted at rest with the vault key (table.tf). DynamoDB unwraps its table key
  # with KMS as the calling role, through DynamoDB, under the context
  # {aws:dynamodb:tableName, aws:dynamodb:subscriberId} ("How Amazon DynamoDB uses AWS KMS").
  # The vault-context statements below can never match that context, so without this path every
  # GetItem/PutItem is denied on AWS (the emulator enforces no key policy, which hid it). It is
  # usable only by DynamoDB on this table of this account: a direct Decrypt call, or one for any
  # other table, carries no such ViaService and context.
  table_at_rest_statements = [
    {
      sid       = "VaultTableAtRestViaDynamoDb"
      actions   = ["kms:Decrypt", "kms:DescribeKey"]
      resources = [var.vault_key_arn]
      conditions = [
        { test = "StringEquals", variable = "kms:ViaService", values = ["dynamodb.${local.region}.amazonaws.com"] },
        { test = "StringEquals", variable = "kms:EncryptionContext:aws:dynamodb:tableName", values = [aws_dynamodb_table.this.name, aws_dynamodb_table.keys.name] },
        { test = "StringEquals", variable = "kms:EncryptionContext:aws:dynamodb:subscriberId", values = [local.account_id] },
      ]
    },
  ]

  audit_statements = [
    {
      sid       = "WriteVaultAuditLog"
      actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      resources = ["${aws_cloudwatch_log_group.audit.arn}:*"]
    },
  ]

  tokenize_statements = [
    {
      # Record data keys and customer-key wrapping keys.
      sid        = "VaultGenerateDataKey"
      actions    = ["kms:GenerateDataKey"]
      resources  = [var.vault_key_arn]
      conditions = local.any_vault_context_conditions
    },
    {
      # Customer keys only: never a record data key (vault = "data-key").
      sid        = "VaultUnwrapCustomerKeys"
      actions    = ["kms:Decrypt"]
      resources  = local.vault_decrypt_key_arns
      conditions = local.customer_key_context_conditions
    },
    {
      # Fingerprints and card keys: GenerateMac over the card itself, one call per card, so
      # nothing outside KMS can test a guessed card (docs/decisions/vault-fingerprinting.md).
      sid       = "FingerprintMac"
      actions   = ["kms:GenerateMac"]
      resources = distinct(compact([var.fingerprint_key_arn, var.card_key_mac_key_arn]))
    },
    {
      # Records (T#) and index entries (F#) only (dynamodb:LeadingKeys): it cannot write a
      # customer key into the vault table. ConditionCheckItem: a new format-preserving record
      # is written only if no record of the same tenant holds its token under the key records
      # had before tokens were per tenant (T#<token>, finding 4).
      sid        = "VaultTableTokenizeWrite"
      actions    = ["dynamodb:ConditionCheckItem", "dynamodb:PutItem"]
      resources  = [local.table_arn]
      conditions = [local.leading_keys.records_and_index]
    },
    {
      # Get and Delete also reach customer keys written to the vault table before the key table
      # existed: tokenize moves them out (functions/adapters/vault_table.py). DeleteItem is
      # otherwise for a token it lost a race for, a record whose customer key was erased as it
      # was written, and a stale index entry.
      sid        = "VaultTableTokenizeReadAndClean"
      actions    = ["dynamodb:DeleteItem", "dynamodb:GetItem"]
      resources  = [local.table_arn]
      conditions = [local.leading_keys.any_vault_item]
    },
    {
      # The rate limit per tenant and card class (finding 5): read a counter, add one to it.
      # Counter items only (R#): no other item can be updated.
      sid        = "VaultTableClassCounters"
      actions    = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
      resources  = [local.table_arn]
      conditions = [local.leading_keys.class_counters]
    },
    {
      # Read and create customer keys, and check that the key a record is sealed under still
      # exists (a read after the write; in a format-preserving record's transaction, a
      # ConditionCheck). No DeleteItem: tokenize cannot shred anyone.
      sid        = "VaultKeyTableTokenize"
      actions    = ["dynamodb:ConditionCheckItem", "dynamodb:GetItem", "dynamodb:PutItem"]
      resources  = [local.key_table_arn]
      conditions = [local.leading_keys.customer_keys]
    },
  ]

  detokenize_statements = concat([
    {
      # A record key needs both: the record data key and the customer key's wrapping key.
      sid        = "VaultDecrypt"
      actions    = ["kms:Decrypt"]
      resources  = local.vault_decrypt_key_arns
      conditions = local.any_vault_context_conditions
    },
    {
      # Consuming a single-use token: records only, never an index entry or a customer key.
      sid        = "VaultTableDetokenizeConsume"
      actions    = ["dynamodb:DeleteItem"]
      resources  = [local.table_arn]
      conditions = [local.leading_keys.records]
    },
    {
      sid        = "VaultTableDetokenizeRead"
      actions    = ["dynamodb:GetItem"]
      resources  = [local.table_arn]
      conditions = [local.leading_keys.records_and_keys]
    },
    {
      sid        = "VaultKeyTableDetokenize"
      actions    = ["dynamodb:GetItem"]
      resources  = [local.key_table_arn]
      conditions = [local.leading_keys.customer_keys]
    },
    ], local.audit_event_bus_arn == null ? [] : [
    {
      sid       = "PublishDetokenizeAudit"
      actions   = ["events:PutEvents"]
      resources = [local.audit_event_bus_arn]
      conditions = [
        { test = "StringEquals", variable = "events:source", values = ["payments.vault"] },
        { test = "StringEquals", variable = "events:detail-type", values = ["vault.detokenize"] },
      ]
    },
  ], local.audit_statements)

  admin_statements = concat([
    {
      sid        = "VaultRewrapGenerateDataKey"
      actions    = ["kms:GenerateDataKey"]
      resources  = [var.vault_key_arn]
      conditions = local.any_vault_context_conditions
    },
    {
      # Rewrap reads every record and customer key under the old keys to seal them again.
      sid        = "VaultRewrapDecrypt"
      actions    = ["kms:Decrypt"]
      resources  = local.vault_decrypt_key_arns
      conditions = local.any_vault_context_conditions
    },
    {
      # Erasure and rewrap: records, index entries and customer keys (never a rate-limit
      # counter). The key table holds only C# items.
      sid        = "VaultTableAdmin"
      actions    = ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"]
      resources  = [local.table_arn, local.key_table_arn]
      conditions = [local.leading_keys.any_vault_item]
    },
    {
      # Rewrap reads every record and customer key; a Scan has no partition key to bound.
      sid       = "VaultTableAdminScan"
      actions   = ["dynamodb:Scan"]
      resources = [local.table_arn, local.key_table_arn]
    },
    {
      sid       = "VaultCustomerIndex"
      actions   = ["dynamodb:Query"]
      resources = ["${local.table_arn}/index/by_tenant_customer"]
    },
    ], local.audit_event_bus_arn == null ? [] : [
    {
      sid       = "PublishAdminAudit"
      actions   = ["events:PutEvents"]
      resources = [local.audit_event_bus_arn]
      conditions = [
        { test = "StringEquals", variable = "events:source", values = ["payments.vault"] },
        { test = "StringEquals", variable = "events:detail-type", values = ["vault.erasure", "vault.rewrap"] },
      ]
    },
  ], local.audit_statements)

  # What each role is given: its own statements plus the table's at-rest path.
  role_statements = {
    tokenize   = concat(local.table_at_rest_statements, local.tokenize_statements)
    detokenize = concat(local.table_at_rest_statements, local.detokenize_statements)
    admin      = concat(local.table_at_rest_statements, local.admin_statements)
  }
}
