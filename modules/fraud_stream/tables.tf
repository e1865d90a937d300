# Two tables, on demand, encrypted with the application key, with TTL on expires_at and
# point-in-time recovery. Neither holds a card number.
#
# features: the windowed counters of functions/domain/fraud_features.py, one item per subject
# (pk "<subject type>#<subject>": card, device, IP, merchant, BIN) holding all its windows (a
# bucket's count, EUR amount, declines and distinct-value sketch are top-level attributes named
# by field, window and start) and, per stream shard, the highest sequence number applied to it
# ("s:<shard id>": the consumer's idempotency, no item per event). An attempt costs at most one
# write per subject. TTL drops an item once no window reaches it.
#
# block_list: "<subject type>#<subject>" (card, device or IP) blocked by an alert until
# expires_at. The hot path also compares expires_at with the clock: TTL deletes late.
locals {
  tables = {
    features   = { name = local.feature_table, hash_key = "pk" }
    block_list = { name = local.block_list_table, hash_key = "subject" }
  }
}

resource "aws_dynamodb_table" "this" {
  for_each = local.tables

  name                        = each.value.name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = each.value.hash_key
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = each.value.hash_key
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.data_kms_key_arn
  }

  tags = local.tags
}
