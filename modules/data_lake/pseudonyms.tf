# The pseudonymisation secrets (functions/domain/lake_records.py): one random secret per
# customer of a merchant (and one per merchant for records without a customer), from which the
# transformation step computes the customer and device pseudonyms the lake holds. Erasing a
# customer deletes their item: their pseudonyms can no longer be recomputed, so their rows, in
# the lake and in every copy of it, cannot be linked back to them (GDPR Art. 17; docs/lake.md).
#
# Point-in-time recovery is off on purpose: it would keep an erased customer's secret restorable
# for 35 days, defeating the erasure. Losing the table loses nothing but linkage: new secrets
# are made on first use, and rows from before simply stop joining rows after.

resource "aws_dynamodb_table" "pseudonym_keys" {
  #checkov:skip=CKV_AWS_28:Point-in-time recovery would keep erased customers' pseudonymisation secrets restorable for 35 days, defeating crypto-shredding erasure (GDPR Art. 17); the secrets are regenerated on first use if the table is lost.
  name                        = local.pseudonym_key_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "scope"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "scope"
    type = "S"
  }

  point_in_time_recovery {
    enabled = false
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = merge(var.tags, { DataClass = "tokenized-analytics" })
}

locals {
  pseudonym_keys_via_dynamodb = [
    { test = "StringEquals", variable = "kms:ViaService", values = ["dynamodb.${local.region}.amazonaws.com"] },
    { test = "StringEquals", variable = "kms:EncryptionContext:aws:dynamodb:tableName", values = [local.pseudonym_key_table_name] },
    { test = "StringEquals", variable = "kms:EncryptionContext:aws:dynamodb:subscriberId", values = [local.account_id] },
  ]

  # The transformation step reads and creates secrets; it cannot list, change or delete them.
  transform_statements = [
    {
      sid       = "PseudonymSecrets"
      actions   = ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem"]
      resources = [aws_dynamodb_table.pseudonym_keys.arn]
    },
    {
      sid        = "PseudonymSecretsKeyViaDynamoDb"
      actions    = ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"]
      resources  = [var.kms_key_arn]
      conditions = local.pseudonym_keys_via_dynamodb
    },
  ]
}

# What whoever erases a customer needs (the erasure runbook in docs/lake.md): delete one item.
data "aws_iam_policy_document" "erasure" {
  statement {
    sid       = "ErasePseudonymSecrets"
    actions   = ["dynamodb:DeleteItem"]
    resources = [aws_dynamodb_table.pseudonym_keys.arn]
  }

  statement {
    sid       = "PseudonymSecretsKeyViaDynamoDb"
    actions   = ["kms:Decrypt", "kms:DescribeKey"]
    resources = [var.kms_key_arn]

    dynamic "condition" {
      for_each = local.pseudonym_keys_via_dynamodb
      content {
        test     = condition.value.test
        variable = condition.value.variable
        values   = condition.value.values
      }
    }
  }
}
