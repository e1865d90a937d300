# The account's detective controls (modules/security_baseline): GuardDuty, Security Hub with
# the PCI DSS v4.0.1 standard, AWS Config, Inspector and IAM Access Analyzer, each on unless the account already has
# it (var.security_baseline); the compliance scan reports every opt-out.

module "security_baseline" {
  source = "../security_baseline"

  name         = var.name_prefix
  kms_key_arn  = module.kms.logs_key_arn
  guardduty    = var.security_baseline.guardduty
  security_hub = var.security_baseline.security_hub
  config       = var.security_baseline.config
  inspector    = var.security_baseline.inspector

  access_analyzer = var.security_baseline.access_analyzer
  force_destroy   = var.audit_force_destroy

  tags = var.tags
}
