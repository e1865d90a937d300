# The account-level detective controls a CDE needs and the blueprint cannot show in its own
# resources: threat detection (GuardDuty), the review of security findings (Security Hub with
# the PCI DSS v4.0.1 standard), configuration recording and drift detection (AWS Config) and
# vulnerability scanning of the functions (Inspector). Each is on by default; an account that
# already has one (an organisation's delegated administrator) opts out per service, and the
# compliance scan reports every opt-out (CKV_PCI_024 to CKV_PCI_027, policies/README.md).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
}

# --------------------------------------------------------------------------- GuardDuty

resource "aws_guardduty_detector" "this" {
  count = var.guardduty.enabled ? 1 : 0

  enable                       = true
  finding_publishing_frequency = var.guardduty.finding_publishing_frequency

  tags = var.tags
}

# Protection plans as features (the detector's datasources block is deprecated upstream).
# S3 protection reads CloudTrail S3 data events (the audit archive, the lake); Lambda protection
# watches the functions' network activity, the CDE's compute.
resource "aws_guardduty_detector_feature" "this" {
  for_each = var.guardduty.enabled ? {
    S3_DATA_EVENTS      = var.guardduty.s3_protection
    LAMBDA_NETWORK_LOGS = var.guardduty.lambda_protection
  } : {}

  detector_id = aws_guardduty_detector.this[0].id
  name        = each.key
  status      = each.value ? "ENABLED" : "DISABLED"
}

# --------------------------------------------------------------------------- Security Hub

locals {
  standards = {
    pci_dss                     = "arn:${local.partition}:securityhub:${local.region}::standards/pci-dss/v/4.0.1"
    foundational_best_practices = "arn:${local.partition}:securityhub:${local.region}::standards/aws-foundational-security-best-practices/v/1.0.0"
  }
  enabled_standards = var.security_hub.enabled ? {
    for key, arn in local.standards : key => arn if var.security_hub[key]
  } : {}
}

resource "aws_securityhub_account" "this" {
  count = var.security_hub.enabled ? 1 : 0

  # The standards are subscribed below, explicitly, rather than whatever AWS enables by default.
  enable_default_standards  = false
  control_finding_generator = "SECURITY_CONTROL"
  auto_enable_controls      = true
}

resource "aws_securityhub_standards_subscription" "this" {
  for_each = local.enabled_standards

  standards_arn = each.value

  depends_on = [aws_securityhub_account.this]
}

# --------------------------------------------------------------------------- Inspector

resource "aws_inspector2_enabler" "this" {
  count = var.inspector.enabled ? 1 : 0

  account_ids    = [local.account_id]
  resource_types = var.inspector.lambda_code ? ["LAMBDA", "LAMBDA_CODE"] : ["LAMBDA"]
}

# --------------------------------------------------------------------------- IAM Access Analyzer

resource "aws_accessanalyzer_analyzer" "this" {
  count = var.access_analyzer.enabled ? 1 : 0

  analyzer_name = "${var.name}-external-access"
  type          = "ACCOUNT"

  tags = var.tags
}
