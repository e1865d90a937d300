module "platform" {
  source = "../../modules/platform"

  name_prefix                   = "payments-prod"
  environment                   = "prod"
  key_administrator_arns        = var.key_administrator_arns
  detokenize_allowed_principals = var.detokenize_allowed_principals
  lambda_package                = var.lambda_package
  vpc_cidr_block                = "10.42.0.0/16"
  az_count                      = var.az_count
  log_retention_days            = var.log_retention_days
  capacity                      = var.capacity
  audit_object_lock             = var.audit_object_lock
  audit_force_destroy           = var.audit_force_destroy
  backup                        = var.backup
  alarm_subscriptions           = var.alarm_subscriptions
  slo                           = var.slo
  acquirer_connector            = var.acquirer_connector
  acquirer_http                 = var.acquirer_http
  acquirer_egress               = var.acquirer_egress

  allow_simulated_card_network_in_prod = var.allow_simulated_card_network_in_prod
}

# KMS refuses a key policy that names a principal that does not exist, and every key policy
# names the key administrators (environments/bootstrap makes the role). Reading each role here
# makes a missing one a plan error that names it, instead of a failed apply halfway through.
data "aws_iam_role" "key_administrator" {
  for_each = toset(var.key_administrator_arns)

  name = element(split("/", each.value), length(split("/", each.value)) - 1)
}
