locals {
  all_keys = merge(
    { for purpose, key in aws_kms_key.symmetric : purpose => { arn = key.arn, id = key.key_id, alias = aws_kms_alias.symmetric[purpose].name, alias_arn = aws_kms_alias.symmetric[purpose].arn } },
    { fingerprint = { arn = aws_kms_key.fingerprint.arn, id = aws_kms_key.fingerprint.key_id, alias = aws_kms_alias.fingerprint.name, alias_arn = aws_kms_alias.fingerprint.arn } },
  )
}

output "keys" {
  description = "Every key by purpose (vault, fingerprint, application, data_lake, logs): arn, id, alias, alias_arn."
  value       = local.all_keys
}

output "key_arns" {
  description = "Key ARN by purpose."
  value       = { for purpose, key in local.all_keys : purpose => key.arn }
}

output "vault_key_arn" {
  description = "ARN of the token vault key (symmetric, encrypts PAN records)."
  value       = aws_kms_key.symmetric["vault"].arn
}

output "vault_key_alias" {
  description = "Alias of the token vault key."
  value       = aws_kms_alias.symmetric["vault"].name
}

output "fingerprint_key_arn" {
  description = "ARN of the HMAC_256 PAN fingerprint key (GenerateMac/VerifyMac)."
  value       = aws_kms_key.fingerprint.arn
}

output "fingerprint_key_alias" {
  description = "Alias of the PAN fingerprint key, for people and dashboards. Functions are given the key ARN (fingerprint_key_arn): a rotation is a new key and a planned cut-over, not an alias switch (README, \"Rotating the HMAC keys\")."
  value       = aws_kms_alias.fingerprint.name
}

output "card_key_mac_key_arn" {
  description = "ARN of the HMAC_256 card key (GenerateMac over the PAN, platform-wide, for risk counters)."
  value       = aws_kms_key.card_key.arn
}

output "application_key_arn" {
  description = "ARN of the application data key (ledger, payments, workflow, Lambda environment, queues)."
  value       = aws_kms_key.symmetric["application"].arn
}

output "application_key_alias" {
  description = "Alias of the application data key."
  value       = aws_kms_alias.symmetric["application"].name
}

output "data_lake_key_arn" {
  description = "ARN of the data lake key (stream, Firehose, lake bucket, Glue, Athena results)."
  value       = aws_kms_key.symmetric["data_lake"].arn
}

output "data_lake_key_alias" {
  description = "Alias of the data lake key."
  value       = aws_kms_alias.symmetric["data_lake"].name
}

output "logs_key_arn" {
  description = "ARN of the logs key (CloudWatch log groups, CloudTrail, alarm SNS topics)."
  value       = aws_kms_key.symmetric["logs"].arn
}

output "logs_key_alias" {
  description = "Alias of the logs key."
  value       = aws_kms_alias.symmetric["logs"].name
}

output "backup_key_arn" {
  description = "ARN of the AWS Backup vault's key; null unless backup_key."
  value       = var.backup_key ? aws_kms_key.symmetric["backup"].arn : null
}
