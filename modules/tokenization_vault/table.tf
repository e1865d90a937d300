# The vault table, exactly as functions/adapters/vault_table.py expects it: token records (T#)
# and the deduplication index (F#). Customer keys (C#) live in the key table below.
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

# Customer keys (C#), apart from the records so that an erasure is final (finding 2): deleting a
# customer's key item shreds every copy of their records, the vault table's point-in-time
# backups included, only if no backup holds the key item. So this table has no PITR, and it is
# tagged Backup = none for AWS Backup plans to exclude (an organisation backup policy selecting
# by tag must honour it). Losing this table loses every card, which is the trade-off of
# crypto-shredding: protect it with deletion protection and IAM, not with backups.
resource "aws_dynamodb_table" "keys" {
  #checkov:skip=CKV_AWS_28:No point-in-time recovery by design: a restore would bring back erased customer keys and undo crypto-shredding (PCI DSS 3.2.1, GDPR erasure); README "Erasure (crypto-shredding) guarantee".
  #checkov:skip=CKV_PCI_015:Deletion protection is on; PITR is off by design (a restore would undo erasures); README "Erasure (crypto-shredding) guarantee".
  #checkov:skip=CKV_PCI_014:Customer keys do not expire (they are deleted by erasure); the TTL rule is for token records.
  name                        = "${var.name}-vault-keys"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }

  point_in_time_recovery {
    enabled = false
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.vault_key_arn
  }

  tags = merge(local.chd_tags, { Backup = "none" })
}
