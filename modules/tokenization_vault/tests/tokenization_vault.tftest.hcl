# Unit tests: plan only, against a mocked AWS provider. They assert the vault's security
# properties (table shape and protection, per-role least privilege, the audit trail) and that
# unsafe inputs are refused. filename is a stand-in file: the plan only hashes it.

mock_provider "aws" {
  override_during = plan

  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "111122223333" }
  }
  override_data {
    target = data.aws_partition.current
    values = { partition = "aws" }
  }
  override_data {
    target = data.aws_region.current
    values = { id = "eu-west-1", name = "eu-west-1" }
  }
  override_data {
    target = module.tokenize.data.aws_caller_identity.current
    values = { account_id = "111122223333" }
  }
  override_data {
    target = module.detokenize.data.aws_caller_identity.current
    values = { account_id = "111122223333" }
  }
  override_data {
    target = module.admin.data.aws_caller_identity.current
    values = { account_id = "111122223333" }
  }

  mock_resource "aws_dynamodb_table" {
    defaults = { arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-vault" }
  }
  override_resource {
    target = aws_dynamodb_table.keys
    values = { arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-vault-keys" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/payments/pay/vault-audit" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = { arn = "arn:aws:sqs:eu-west-1:111122223333:pay-failures" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::111122223333:role/pay-role" }
  }
}

variables {
  name                = "pay"
  filename            = "tests/fixtures/package.py"
  vault_key_arn       = "arn:aws:kms:eu-west-1:111122223333:key/11111111-1111-1111-1111-111111111111"
  fingerprint_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/22222222-2222-2222-2222-222222222222"
  env_kms_key_arn     = "arn:aws:kms:eu-west-1:111122223333:key/33333333-3333-3333-3333-333333333333"
  logs_kms_key_arn    = "arn:aws:kms:eu-west-1:111122223333:key/44444444-4444-4444-4444-444444444444"
  vpc_config = {
    subnet_ids         = ["subnet-aaaa", "subnet-bbbb"]
    security_group_ids = ["sg-1111"]
  }
  detokenize_allowed_principals = ["arn:aws:iam::111122223333:role/chargebacks"]
}

# Plans are the slow part of this test (each run plans the whole module), so the
# properties that need no particular inputs share one run, and those that set inputs
# (no two the same) share another. Each "---" heading is one property; an assertion's
# error message names what failed.
run "the_vault_with_its_defaults" {
  command = plan

  # --- table matches the adapter and is protected
  assert {
    condition     = aws_dynamodb_table.this.hash_key == "pk" && aws_dynamodb_table.this.range_key == null && aws_dynamodb_table.this.billing_mode == "PAY_PER_REQUEST"
    error_message = "The vault table is keyed by pk (S) only, on demand."
  }

  assert {
    condition = (
      length(aws_dynamodb_table.this.global_secondary_index) == 1 &&
      one(aws_dynamodb_table.this.global_secondary_index).name == "by_tenant_customer" &&
      one(aws_dynamodb_table.this.global_secondary_index).hash_key == "tenant_customer" &&
      one(aws_dynamodb_table.this.global_secondary_index).projection_type == "KEYS_ONLY"
    )
    error_message = "GSI by_tenant_customer on tenant_customer, KEYS_ONLY, as vault_table.py expects."
  }

  assert {
    condition     = toset([for a in aws_dynamodb_table.this.attribute : "${a.name}:${a.type}"]) == toset(["pk:S", "tenant_customer:S"])
    error_message = "Attributes must be pk (S) and tenant_customer (S)."
  }

  assert {
    condition     = one(aws_dynamodb_table.this.ttl).enabled && one(aws_dynamodb_table.this.ttl).attribute_name == "expires_at"
    error_message = "TTL on expires_at must be enabled."
  }

  assert {
    condition     = one(aws_dynamodb_table.this.point_in_time_recovery).enabled && aws_dynamodb_table.this.deletion_protection_enabled
    error_message = "PITR and deletion protection must be on by default."
  }

  assert {
    condition     = one(aws_dynamodb_table.this.server_side_encryption).enabled && one(aws_dynamodb_table.this.server_side_encryption).kms_key_arn == var.vault_key_arn
    error_message = "The table must be encrypted with the customer-managed vault key."
  }

  assert {
    condition     = aws_dynamodb_table.this.tags["DataClass"] == "cardholder-data"
    error_message = "The vault table is tagged DataClass = cardholder-data."
  }

  # --- functions are private and named
  assert {
    condition = (
      module.tokenize.function_name == "pay-tokenize" &&
      module.detokenize.function_name == "pay-detokenize" &&
      module.admin.function_name == "pay-vault-admin"
    )
    error_message = "Function names must be <name>-tokenize, -detokenize, -vault-admin."
  }

  assert {
    condition     = toset(keys(output.functions)) == toset(["tokenize", "detokenize", "admin"])
    error_message = "The functions output lists tokenize, detokenize and admin."
  }

  # --- iam is least privilege per role
  # No wildcard action anywhere.
  assert {
    condition = alltrue([
      for s in concat(local.tokenize_statements, local.detokenize_statements, local.admin_statements) :
      alltrue([for a in s.actions : a != "*" && !endswith(a, ":*")])
    ])
    error_message = "No role may hold a wildcard action."
  }

  # Tokenize: GenerateDataKey (both vault contexts) + Decrypt (customer-key context only) on
  # the vault key, GenerateMac on the HMAC key, and Get/Put/Delete on the table. No audit, no
  # Query, no Scan.
  assert {
    condition = (
      toset(flatten([for s in local.tokenize_statements : s.actions])) ==
      toset(["kms:GenerateDataKey", "kms:Decrypt", "kms:GenerateMac", "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"])
    )
    error_message = "Tokenize holds exactly GenerateDataKey, Decrypt (context-bound), GenerateMac, Get/Put/DeleteItem, ConditionCheckItem and UpdateItem (rate-limit counters)."
  }

  # Every vault GenerateDataKey/Decrypt is pinned (StringEquals) to the vault's own contexts
  # and to the context keys vault and tenant_id; nothing else may be asked for.
  assert {
    condition = alltrue([
      for s in concat(local.tokenize_statements, local.detokenize_statements, local.admin_statements) :
      length([for c in s.conditions : c if c.test == "StringEquals" && c.variable == "kms:EncryptionContext:vault"]) == 1 &&
      alltrue([for c in s.conditions : length(setsubtract(c.values, ["data-key", "customer-key"])) == 0 if c.variable == "kms:EncryptionContext:vault"]) &&
      contains([for c in s.conditions : "${c.test}:${c.variable}=${join(",", c.values)}"], "ForAllValues:StringEquals:kms:EncryptionContextKeys=vault,tenant_id")
      if contains(s.actions, "kms:Decrypt") || contains(s.actions, "kms:GenerateDataKey")
    ])
    error_message = "Every vault Decrypt/GenerateDataKey is bound to the vault's data-key or customer-key encryption context."
  }

  # The acceptance criterion: tokenize can encrypt but never decrypt a record. Its only Decrypt
  # statement is conditioned on vault = customer-key, and no tokenize statement that grants
  # Decrypt lets vault = data-key through.
  assert {
    condition = (
      length([for s in local.tokenize_statements : s if contains(s.actions, "kms:Decrypt")]) == 1 &&
      alltrue([
        for s in local.tokenize_statements : (
          s.actions == ["kms:Decrypt"] &&
          [for c in s.conditions : c.values if c.test == "StringEquals" && c.variable == "kms:EncryptionContext:vault"] == [["customer-key"]] &&
          !contains(flatten([for c in s.conditions : c.values]), "data-key")
        )
        if contains(s.actions, "kms:Decrypt")
      ])
    )
    error_message = "Tokenize may Decrypt only with encryption context vault = customer-key, never data-key."
  }

  assert {
    condition = alltrue([
      for s in local.tokenize_statements : toset(one([for c in s.conditions : c.values if c.variable == "kms:EncryptionContext:vault"])) == toset(["data-key", "customer-key"])
      if contains(s.actions, "kms:GenerateDataKey")
    ])
    error_message = "Tokenize generates record data keys and customer-key wrapping keys."
  }

  # Detokenize and admin unwrap both: a record key needs its data key and its customer key.
  assert {
    condition = alltrue([
      for s in concat(local.detokenize_statements, local.admin_statements) : toset(one([for c in s.conditions : c.values if c.variable == "kms:EncryptionContext:vault"])) == toset(["data-key", "customer-key"])
      if contains(s.actions, "kms:Decrypt")
    ])
    error_message = "Detokenize and admin Decrypt both data-key and customer-key contexts."
  }

  assert {
    condition = alltrue([
      for s in local.tokenize_statements : !contains(s.resources, var.fingerprint_key_arn) || s.actions == ["kms:GenerateMac"]
    ]) && toset(one([for s in local.tokenize_statements : s.resources if contains(s.actions, "kms:GenerateMac")])) == toset([var.fingerprint_key_arn])
    error_message = "GenerateMac only on the fingerprint key, and the fingerprint key only for GenerateMac."
  }

  assert {
    condition     = length([for s in local.tokenize_statements : s if anytrue([for a in s.actions : startswith(a, "logs:") || startswith(a, "events:")])]) == 0
    error_message = "Tokenize cannot write the audit trail."
  }

  # Detokenize: Decrypt, Get/DeleteItem, and the audit trail: this log group only (no bus given).
  assert {
    condition = (
      toset(flatten([for s in local.detokenize_statements : s.actions])) ==
      toset(["kms:Decrypt", "dynamodb:DeleteItem", "dynamodb:GetItem", "logs:CreateLogStream", "logs:PutLogEvents"])
    )
    error_message = "Without an audit bus, detokenize holds exactly Decrypt, Get/DeleteItem and the audit log writes."
  }

  assert {
    condition = alltrue([
      for s in local.detokenize_statements : s.resources == ["arn:aws:logs:eu-west-1:111122223333:log-group:/payments/pay/vault-audit:*"]
      if anytrue([for a in s.actions : startswith(a, "logs:")])
    ])
    error_message = "Detokenize may write logs to the audit log group only."
  }

  assert {
    condition = alltrue([
      for s in local.detokenize_statements : toset(s.resources) == toset([var.vault_key_arn])
      if contains(s.actions, "kms:Decrypt")
    ])
    error_message = "Detokenize decrypts with the vault key only."
  }

  # Admin: Query only on the customer index; no GenerateMac.
  assert {
    condition     = one([for s in local.admin_statements : s.resources if contains(s.actions, "dynamodb:Query")]) == ["arn:aws:dynamodb:eu-west-1:111122223333:table/pay-vault/index/by_tenant_customer"]
    error_message = "Admin queries the by_tenant_customer index only."
  }

  assert {
    condition     = !contains(flatten([for s in local.admin_statements : s.actions]), "kms:GenerateMac")
    error_message = "Admin needs no fingerprint key."
  }

  # --- environment wires the handlers
  assert {
    condition = (
      local.common_env.VAULT_TABLE_NAME == "pay-vault" &&
      local.common_env.VAULT_KMS_KEY_ID == var.vault_key_arn &&
      local.common_env.VAULT_FINGERPRINT_KEY_ID == var.fingerprint_key_arn &&
      local.common_env.VAULT_DECRYPT_KEY_IDS == var.vault_key_arn
    )
    error_message = "Every function gets the table and key settings."
  }

  assert {
    condition     = local.audit_env == { VAULT_AUDIT_LOG_GROUP = "/payments/pay/vault-audit" }
    error_message = "Detokenize and admin get the audit log group, and no bus when none was given."
  }

  # --- merchants are the API authorizer's (API keys), not the vault's configuration
  assert {
    condition     = !contains(keys(local.common_env), "MERCHANT_PRINCIPALS")
    error_message = "No merchant principals reach tokenize or detokenize: tokenize's tenant is the API key's merchant, detokenize is the allow-list's."
  }

  # --- audit log group is encrypted and kept seven years
  assert {
    condition     = aws_cloudwatch_log_group.audit.kms_key_id == var.logs_kms_key_arn && aws_cloudwatch_log_group.audit.retention_in_days == 2557
    error_message = "The audit log group is encrypted with the logs key and kept 2557 days by default."
  }

  assert {
    condition     = length([for s in local.admin_statements : s if anytrue([for a in s.actions : startswith(a, "events:")])]) == 0 && output.audit_event_bus_arn == null
    error_message = "Without a bus name nothing may publish audit events: no bus is created for events nobody reads."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.signal["detokenize_refused"].threshold == 1
    error_message = "A single refused detokenize raises the alarm."
  }

  # --- every vault role may use the table key through dynamodb only
  # Finding 10: the table is encrypted at rest with the vault key, and DynamoDB unwraps the table
  # key as the calling role, through DynamoDB, with the context {aws:dynamodb:tableName,
  # aws:dynamodb:subscriberId}. A role allowed the vault key only under the vault's own contexts
  # would be denied every read and write on AWS. Each role must hold that path explicitly, and
  # only that path: through DynamoDB in this region, for this table, in this account.
  assert {
    condition = alltrue([
      for statements in values(local.role_statements) :
      length([
        for s in statements : s
        if contains(s.actions, "kms:Decrypt") && s.resources == [var.vault_key_arn] &&
        contains([for c in try(s.conditions, []) : "${c.test}:${c.variable}=${join(",", c.values)}"], "StringEquals:kms:ViaService=dynamodb.eu-west-1.amazonaws.com") &&
        contains([for c in try(s.conditions, []) : "${c.test}:${c.variable}=${join(",", c.values)}"], "StringEquals:kms:EncryptionContext:aws:dynamodb:tableName=pay-vault,pay-vault-keys") &&
        contains([for c in try(s.conditions, []) : "${c.test}:${c.variable}=${join(",", c.values)}"], "StringEquals:kms:EncryptionContext:aws:dynamodb:subscriberId=111122223333")
      ]) == 1
    ])
    error_message = "Tokenize, detokenize and admin each need kms:Decrypt on the vault key via dynamodb.<region>.amazonaws.com for this table and account (the table is encrypted with the vault key)."
  }

  # The DynamoDB path is the only vault-key grant without a vault context, and it cannot be
  # used directly (ViaService) nor to create keys.
  assert {
    condition = alltrue([
      for s in flatten(values(local.role_statements)) :
      length(setsubtract(s.actions, ["kms:Decrypt", "kms:DescribeKey"])) == 0 &&
      length([for c in try(s.conditions, []) : c if c.variable == "kms:ViaService"]) == 1
      if anytrue([for c in try(s.conditions, []) : startswith(c.variable, "kms:EncryptionContext:aws:dynamodb:")]) || (
        contains(s.resources, var.vault_key_arn) && !anytrue([for c in try(s.conditions, []) : c.variable == "kms:EncryptionContext:vault"])
      )
    ])
    error_message = "A vault-key statement without a vault encryption context must be the DynamoDB path: Decrypt/DescribeKey only, conditioned on kms:ViaService."
  }

  assert {
    condition     = one(aws_dynamodb_table.this.server_side_encryption).kms_key_arn == var.vault_key_arn
    error_message = "The grant above is for the key the table is encrypted with."
  }

  # --- customer keys live in a table without backups
  # Finding 2: customer keys live apart from the records, in a table without point-in-time
  # recovery, so restoring the vault table after an erasure restores no key; and tokenize cannot
  # delete a customer key (only erasure, by the admin function, does).
  assert {
    condition     = aws_dynamodb_table.keys.name == "pay-vault-keys" && local.common_env.VAULT_KEY_TABLE_NAME == "pay-vault-keys"
    error_message = "The functions keep customer keys in <name>-vault-keys."
  }

  assert {
    condition     = !one(aws_dynamodb_table.keys.point_in_time_recovery).enabled && aws_dynamodb_table.keys.tags["Backup"] == "none"
    error_message = "The key table has no PITR and is tagged for backup plans to exclude: an erased key must not come back from a restore."
  }

  assert {
    condition     = aws_dynamodb_table.keys.deletion_protection_enabled && one(aws_dynamodb_table.keys.server_side_encryption).kms_key_arn == var.vault_key_arn
    error_message = "The key table is deletion-protected and encrypted with the vault key."
  }

  assert {
    condition = !anytrue([
      for s in local.tokenize_statements : contains(s.actions, "dynamodb:DeleteItem") && contains(s.resources, "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-vault-keys")
      ]) && !anytrue([
      for s in local.detokenize_statements : contains(s.resources, "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-vault-keys") && length(setsubtract(s.actions, ["dynamodb:GetItem"])) > 0
    ])
    error_message = "Only the admin function (erasure) may delete a customer key; detokenize only reads them."
  }

  assert {
    condition = anytrue([
      for s in local.tokenize_statements : contains(s.actions, "dynamodb:ConditionCheckItem") && s.resources == ["arn:aws:dynamodb:eu-west-1:111122223333:table/pay-vault-keys"]
    ])
    error_message = "Tokenize checks, in the record write's transaction, that the customer key still exists."
  }

  # --- vault table grants are bounded by leading keys
  # Finding 7: the vault table grants reach only the items each role needs, by key prefix
  # (dynamodb:LeadingKeys): detokenize deletes token records only, tokenize writes records and
  # index entries only, and no vault-table write is unconditioned.
  assert {
    condition = alltrue([
      for s in concat(local.tokenize_statements, local.detokenize_statements) :
      contains([for c in try(s.conditions, []) : c.variable], "dynamodb:LeadingKeys")
      if contains(s.resources, "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-vault") && anytrue([for a in s.actions : startswith(a, "dynamodb:")])
    ])
    error_message = "Every tokenize and detokenize statement on the vault table carries a dynamodb:LeadingKeys condition."
  }

  assert {
    condition = one([
      for s in local.detokenize_statements : one([for c in s.conditions : c.values if c.variable == "dynamodb:LeadingKeys"])
      if contains(s.actions, "dynamodb:DeleteItem")
    ]) == ["T#*"]
    error_message = "Detokenize may delete token records (single use) and nothing else."
  }

  assert {
    condition = toset(one([
      for s in local.tokenize_statements : one([for c in s.conditions : c.values if c.variable == "dynamodb:LeadingKeys"])
      if contains(s.actions, "dynamodb:PutItem") && contains(s.resources, "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-vault")
    ])) == toset(["T#*", "F#*"])
    error_message = "Tokenize writes token records and index entries only."
  }

  assert {
    condition = alltrue([
      for c in flatten([for s in concat(local.tokenize_statements, local.detokenize_statements) : try(s.conditions, [])]) :
      c.test == "ForAllValues:StringLike" if c.variable == "dynamodb:LeadingKeys"
    ])
    error_message = "LeadingKeys conditions use ForAllValues:StringLike."
  }

  # --- every item grant on the vault tables is bounded by leading keys
  # Finding 7 (and CKV_PCI_020): every item-level grant of every vault role on either table is
  # bounded by key prefix; only Scan (rewrap) and the customer index Query cannot be.
  assert {
    condition = alltrue([
      for s in flatten(values(local.role_statements)) :
      contains([for c in try(s.conditions, []) : c.variable], "dynamodb:LeadingKeys")
      if length(setintersection(s.resources, ["arn:aws:dynamodb:eu-west-1:111122223333:table/pay-vault", "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-vault-keys"])) > 0 &&
      length(setsubtract([for a in s.actions : a if startswith(a, "dynamodb:")], ["dynamodb:Scan", "dynamodb:Query"])) > 0
    ])
    error_message = "Every Get/Put/Update/Delete/ConditionCheck/BatchWrite grant on a vault table carries dynamodb:LeadingKeys."
  }

  assert {
    condition = alltrue([
      for s in flatten(values(local.role_statements)) : s.actions == ["dynamodb:Scan"]
      if contains(s.actions, "dynamodb:Scan")
    ])
    error_message = "Scan (which no key condition bounds) stands alone in its statement."
  }

  assert {
    condition = alltrue([
      for s in flatten(values(local.role_statements)) :
      one([for c in s.conditions : c.values if c.variable == "dynamodb:LeadingKeys"]) == ["C#*"]
      if s.resources == ["arn:aws:dynamodb:eu-west-1:111122223333:table/pay-vault-keys"]
    ])
    error_message = "Grants on the key table reach customer keys (C#) only."
  }

  assert {
    condition = !contains(flatten([
      for s in flatten(values(local.role_statements)) : [for c in try(s.conditions, []) : c.values if c.variable == "dynamodb:LeadingKeys"]
      if s.sid != "VaultTableClassCounters"
    ]), "R#*")
    error_message = "Only tokenize's counter statement reaches the rate-limit counters."
  }

  # --- card data functions keep no failed events
  # Finding 11: the vault functions see card numbers, so none keeps a failed asynchronous
  # invocation (it would hold the card number and CVC for 14 days).
  assert {
    condition = alltrue([
      for f in [module.tokenize, module.detokenize, module.admin] : f.failure_queue_arn == null
    ])
    error_message = "Tokenize, detokenize and admin have no on-failure queue."
  }

  assert {
    condition     = local.card_data_async.failure_queue_enabled == false && local.card_data_async.async_invoke == { maximum_retry_attempts = 0, maximum_event_age_in_seconds = 60 }
    error_message = "Their asynchronous events are neither kept, retried nor held for long."
  }
}

run "the_vault_with_every_input_set" {
  command = plan

  variables {
    audit_event_bus_name          = "security-events"
    card_key_mac_key_arn          = "arn:aws:kms:eu-west-1:111122223333:key/55555555-5555-5555-5555-555555555555"
    detokenize_allowed_principals = ["arn:aws:sts::111122223333:assumed-role/chargebacks/"]
    alarm_sns_topic_arn           = "arn:aws:sns:eu-west-1:111122223333:security-alarms"
    tokenize_class_limit          = { max_new_cards = 12 }
  }

  # --- a given bus receives the audit events, and only they may be put on it
  assert {
    condition = (
      local.audit_env.VAULT_AUDIT_EVENT_BUS == "security-events" &&
      [for s in local.detokenize_statements : s.resources if contains(s.actions, "events:PutEvents")] == [["arn:aws:events:eu-west-1:111122223333:event-bus/security-events"]] &&
      [for s in local.admin_statements : s.resources if contains(s.actions, "events:PutEvents")] == [["arn:aws:events:eu-west-1:111122223333:event-bus/security-events"]] &&
      [for s in local.detokenize_statements : s.conditions[1].values if contains(s.actions, "events:PutEvents")] == [["vault.detokenize"]]
    )
    error_message = "A given bus is the functions' audit bus; detokenize and admin may put their own audit events on it only."
  }

  # --- card key is a kms mac only tokenize may compute
  # Finding 1/9: fingerprints and the card key are GenerateMac over the card, on their own keys;
  # tokenize is the only vault role that may compute either.
  assert {
    condition     = toset(one([for s in local.tokenize_statements : s.resources if contains(s.actions, "kms:GenerateMac")])) == toset([var.fingerprint_key_arn, var.card_key_mac_key_arn])
    error_message = "Tokenize may GenerateMac on the fingerprint key and the card key."
  }

  assert {
    condition = !anytrue([
      for s in concat(local.detokenize_statements, local.admin_statements) : contains(s.resources, var.card_key_mac_key_arn) || contains(s.actions, "kms:GenerateMac")
    ])
    error_message = "Detokenize and admin never compute card keys or fingerprints."
  }

  assert {
    condition     = local.common_env.VAULT_CARD_KEY_MAC_KEY_ID == var.card_key_mac_key_arn
    error_message = "The functions get the card key's ARN."
  }

  # --- one roles sessions prefix is accepted
  assert {
    condition     = module.detokenize.function_name == "pay-detokenize"
    error_message = "A prefix naming one role is a valid allow-list entry."
  }

  # --- tokenize is rate limited per card class and alarmed
  # Finding 5 (second half): tokenize counts new cards per merchant and card class and refuses the
  # class at the limit; the refusals are counted from the tokenize log group and alarmed on.
  assert {
    condition     = local.tokenize_env.VAULT_CLASS_LIMIT_MAX_NEW_CARDS == "12" && local.tokenize_env.VAULT_CLASS_LIMIT_WINDOW_SECONDS == "3600"
    error_message = "Tokenize gets the class limit (the window defaults to an hour)."
  }

  assert {
    condition     = !contains(keys(local.common_env), "VAULT_CLASS_LIMIT_MAX_NEW_CARDS")
    error_message = "Only tokenize tokenizes, so only tokenize counts."
  }

  assert {
    condition = one([
      for s in local.tokenize_statements : s if s.sid == "VaultTableClassCounters"
      ]).actions == ["dynamodb:GetItem", "dynamodb:UpdateItem"] && one([
      for s in local.tokenize_statements : one([for c in s.conditions : c.values if c.variable == "dynamodb:LeadingKeys"]) if s.sid == "VaultTableClassCounters"
    ]) == ["R#*"]
    error_message = "Tokenize reads and adds to counter items (R#) only."
  }

  assert {
    condition     = !anytrue([for s in local.tokenize_statements : contains(s.actions, "dynamodb:UpdateItem") if s.sid != "VaultTableClassCounters"])
    error_message = "UpdateItem is for the counters only."
  }

  assert {
    condition = (
      aws_cloudwatch_log_metric_filter.signal["tokenize_rate_limited"].log_group_name == module.tokenize.log_group_name &&
      aws_cloudwatch_log_metric_filter.signal["tokenize_rate_limited"].pattern == "{ $.message = \"tokenize rate limited\" }" &&
      one(aws_cloudwatch_log_metric_filter.signal["tokenize_rate_limited"].metric_transformation).name == "TokenizeRateLimited"
    )
    error_message = "The metric filter counts the tokenize function's rate-limited lines (functions/handlers/tokenize.py RATE_LIMITED_MESSAGE)."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.signal["tokenize_rate_limited"].metric_name == "TokenizeRateLimited" &&
      aws_cloudwatch_metric_alarm.signal["tokenize_rate_limited"].namespace == "Payments/Vault/pay" &&
      aws_cloudwatch_metric_alarm.signal["tokenize_rate_limited"].threshold == 1 &&
      aws_cloudwatch_metric_alarm.signal["tokenize_rate_limited"].alarm_actions == toset(["arn:aws:sns:eu-west-1:111122223333:security-alarms"])
    )
    error_message = "The first refused class raises the alarm, on the module's alarm topic."
  }
}

# Every variable's validation refuses its bad values. Each run below sets one refused value
# for each of several variables and expects every one of them to fail (terraform test fails
# the run if any listed variable does not), so one plan of the whole module checks
# several rules at once; the comment above each value names the rule it exercises.
run "bad_values_are_refused_1" {
  command = plan

  variables {
    # short audit retention is refused
    audit_log_retention_in_days = 90
    # wildcard detokenize principal is refused
    detokenize_allowed_principals = ["arn:aws:iam::111122223333:role/*"]
    # --- vault key alias is refused
    vault_key_arn = "alias/aws/dynamodb"
    # single subnet is refused
    vpc_config = {
      subnet_ids         = ["subnet-aaaa"]
      security_group_ids = ["sg-1111"]
    }
    # default bus is refused
    audit_event_bus_name = "default"
    # unbounded data key uses are refused
    vault_settings = { data_key_max_uses = 1000000000 }
    # a class limit of zero is refused
    tokenize_class_limit = { max_new_cards = 0 }
  }

  expect_failures = [
    var.audit_log_retention_in_days,
    var.detokenize_allowed_principals,
    var.vault_key_arn,
    var.vpc_config,
    var.audit_event_bus_name,
    var.vault_settings,
    var.tokenize_class_limit,
  ]
}

run "bad_values_are_refused_2" {
  command = plan

  variables {
    # every role session prefix is refused
    # Finding 11: "arn:aws:sts::<account>:assumed-role/" admitted every role session in the account.
    detokenize_allowed_principals = ["arn:aws:sts::111122223333:assumed-role/"]
    # a class window under a minute is refused
    tokenize_class_limit = { window_seconds = 10 }
    # --- HMAC key aliases are refused. Finding 11: rotating an HMAC key "by alias switch" does
    # nothing, because the functions hold key ARNs; an alias is refused so that nobody relies
    # on one (rotation is a new key and a planned cut-over:
    # docs/decisions/vault-fingerprinting.md, modules/kms README).
    fingerprint_key_arn  = "arn:aws:kms:eu-west-1:111122223333:alias/payments/fingerprint"
    card_key_mac_key_arn = "alias/payments/card-key"
  }

  expect_failures = [
    var.detokenize_allowed_principals,
    var.tokenize_class_limit,
    var.fingerprint_key_arn,
    var.card_key_mac_key_arn,
  ]
}
