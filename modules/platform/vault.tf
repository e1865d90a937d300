module "vault" {
  source = "../tokenization_vault"

  name                          = var.name_prefix
  filename                      = var.lambda_package
  runtime                       = var.lambda_runtime
  vault_key_arn                 = module.kms.vault_key_arn
  fingerprint_key_arn           = module.kms.fingerprint_key_arn
  card_key_mac_key_arn          = module.kms.card_key_mac_key_arn
  env_kms_key_arn               = module.kms.application_key_arn
  logs_kms_key_arn              = module.kms.logs_key_arn
  vpc_config                    = local.cde_vpc_config
  detokenize_allowed_principals = var.detokenize_allowed_principals
  deletion_protection           = var.deletion_protection
  log_retention_in_days         = var.log_retention_days
  reserved_concurrency = {
    tokenize   = local.reserved_concurrency.tokenize
    detokenize = local.reserved_concurrency.detokenize
    admin      = local.reserved_concurrency.vault_admin
  }
  tags = local.cde_tags
}
