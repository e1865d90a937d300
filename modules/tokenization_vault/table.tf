# The vault table, exactly as functions/adapters/vault_table.py expects it: one table holding
# token records (T#), the deduplication index (F#) and the customer keys (C#).
resource "aws_dynamodb_table" "this" {
  name                        = "${var.name}-vault"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "tenant_customer"
    type = "S"
  }

  # Lists a customer's records and index entries for erasure (crypto-shredding).
  global_secondary_index {
    name            = "by_tenant_customer"
    hash_key        = "tenant_customer"
    projection_type = "KEYS_ONLY"
  }

  # Single-use and time-limited tokens expire (PCI DSS 3.2.1: keep no more than needed).
  ttl {
    enabled        = true
    attribute_name = "expires_at"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.vault_key_arn
  }

  tags = local.chd_tags
}
