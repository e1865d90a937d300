module "platform" {
  source = "../../modules/platform"

  name_prefix                   = "payments-dev"
  environment                   = "dev"
  key_administrator_arns        = var.key_administrator_arns
  detokenize_allowed_principals = var.detokenize_allowed_principals
  lambda_package                = var.lambda_package
  vpc_cidr_block                = "10.40.0.0/16"
  az_count                      = 2
  log_retention_days            = 365
  alarm_subscriptions           = var.alarm_subscriptions
}
