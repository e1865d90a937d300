# Least privilege per role (no wildcard actions; every statement names its key, table, log
# group or bus). Only detokenize and admin may write the audit trail; tokenize cannot audit
# and therefore cannot detokenize through the domain.
#
# Residual risk, tokenize: it needs kms:Decrypt on the vault key to unwrap existing customer
# keys (another container created them), and the domain wraps customer keys and record keys
# under the same data keys with the same encryption context, so the condition can pin the
# vault's context but cannot tell the two apart. See README "Residual risk".

locals {
  table_arn = aws_dynamodb_table.this.arn

  audit_statements = [
    {
      sid       = "WriteVaultAuditLog"
      actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      resources = ["${aws_cloudwatch_log_group.audit.arn}:*"]
    },
  ]

  tokenize_statements = [
    {
      sid        = "VaultGenerateDataKey"
      actions    = ["kms:GenerateDataKey"]
      resources  = [var.vault_key_arn]
      conditions = local.data_key_context_conditions
    },
    {
      sid        = "VaultUnwrapCustomerKeys"
      actions    = ["kms:Decrypt"]
      resources  = local.vault_decrypt_key_arns
      conditions = local.data_key_context_conditions
    },
    {
      sid       = "FingerprintMac"
      actions   = ["kms:GenerateMac"]
      resources = [var.fingerprint_key_arn]
    },
    {
      sid       = "VaultTableTokenize"
      actions   = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"]
      resources = [local.table_arn]
    },
  ]

  detokenize_statements = concat([
    {
      sid        = "VaultDecrypt"
      actions    = ["kms:Decrypt"]
      resources  = local.vault_decrypt_key_arns
      conditions = local.data_key_context_conditions
    },
    {
      sid       = "VaultTableDetokenize"
      actions   = ["dynamodb:DeleteItem", "dynamodb:GetItem"]
      resources = [local.table_arn]
    },
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
      conditions = local.data_key_context_conditions
    },
    {
      # Rewrap reads every record under the old key to seal it under the new one.
      sid        = "VaultRewrapDecrypt"
      actions    = ["kms:Decrypt"]
      resources  = local.vault_decrypt_key_arns
      conditions = local.data_key_context_conditions
    },
    {
      sid       = "VaultTableAdmin"
      actions   = ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Scan"]
      resources = [local.table_arn]
    },
    {
      sid       = "VaultCustomerIndex"
      actions   = ["dynamodb:Query"]
      resources = ["${local.table_arn}/index/by_tenant_customer"]
    },
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
}
