data "aws_partition" "current" {}

data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id
  account_id = data.aws_caller_identity.current.account_id


  # Everything that stores, or runs code that sees, a card number.
  chd_tags = merge(var.tags, { DataClass = "cardholder-data" })

  # Keys a stored record may name: the current vault key and, during a key change, the old ones.
  vault_decrypt_key_arns = distinct(concat([var.vault_key_arn], var.previous_vault_key_arns))

  # The KMS encryption contexts the domain binds into the vault's tenant data keys
  # (functions/domain/vault/keys.py kms_context: {vault = <purpose>, tenant_id = <tenant>}):
  # "data-key" for record data keys, "customer-key" for the keys that wrap customer keys.
  # Granting Decrypt per purpose is what keeps tokenize from decrypting stored cards.
  vault_context_keys_condition = {
    test = "ForAllValues:StringEquals", variable = "kms:EncryptionContextKeys", values = ["vault", "tenant_id"]
  }
  customer_key_context_conditions = [
    { test = "StringEquals", variable = "kms:EncryptionContext:vault", values = ["customer-key"] },
    local.vault_context_keys_condition,
  ]
  any_vault_context_conditions = [
    { test = "StringEquals", variable = "kms:EncryptionContext:vault", values = ["data-key", "customer-key"] },
    local.vault_context_keys_condition,
  ]

  vault_settings_env = {
    for k, v in {
      VAULT_DATA_KEY_MAX_AGE_SECONDS           = var.vault_settings.data_key_max_age_seconds
      VAULT_DATA_KEY_MAX_USES                  = var.vault_settings.data_key_max_uses
      VAULT_CUSTOMER_KEY_CACHE_MAX_AGE_SECONDS = var.vault_settings.customer_key_cache_max_age_seconds
      VAULT_DECRYPT_CACHE_MAX_AGE_SECONDS      = var.vault_settings.decrypt_cache_max_age_seconds
    } : k => tostring(v) if v != null
  }

  common_env = merge(local.vault_settings_env, {
    VAULT_TABLE_NAME          = aws_dynamodb_table.this.name
    VAULT_KEY_TABLE_NAME      = aws_dynamodb_table.keys.name
    VAULT_KMS_KEY_ID          = var.vault_key_arn
    VAULT_FINGERPRINT_KEY_ID  = var.fingerprint_key_arn
    VAULT_CARD_KEY_MAC_KEY_ID = coalesce(var.card_key_mac_key_arn, var.fingerprint_key_arn)
    VAULT_DECRYPT_KEY_IDS     = join(",", local.vault_decrypt_key_arns)
  })

  # Only tokenize tokenizes, so only tokenize counts (functions/domain/vault/limits.py).
  tokenize_env = merge(local.common_env, {
    VAULT_CLASS_LIMIT_MAX_NEW_CARDS  = tostring(var.tokenize_class_limit.max_new_cards)
    VAULT_CLASS_LIMIT_WINDOW_SECONDS = tostring(var.tokenize_class_limit.window_seconds)
  })

  audit_env = merge(
    { VAULT_AUDIT_LOG_GROUP = aws_cloudwatch_log_group.audit.name },
    local.audit_event_bus_name == null ? {} : { VAULT_AUDIT_EVENT_BUS = local.audit_event_bus_name },
  )
}
