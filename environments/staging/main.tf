module "platform" {
  source = "../../modules/platform"

  name_prefix                   = "payments-staging"
  environment                   = "staging"
  key_administrator_arns        = var.key_administrator_arns
  detokenize_allowed_principals = var.detokenize_allowed_principals
  lambda_package                = var.lambda_package
  vpc_cidr_block                = "10.41.0.0/16"
  az_count                      = 2
  log_retention_days            = 400
  alarm_subscriptions           = var.alarm_subscriptions
}
