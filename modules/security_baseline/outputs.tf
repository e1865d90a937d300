output "guardduty_detector_id" {
  description = "ID of the GuardDuty detector, null when guardduty.enabled is false."
  value       = one(aws_guardduty_detector.this[*].id)
}

output "security_hub_standards" {
  description = "ARNs of the Security Hub standards subscribed (PCI DSS v4.0.1, AWS Foundational Security Best Practices), by key."
  value       = { for key, subscription in aws_securityhub_standards_subscription.this : key => subscription.standards_arn }
}

output "config_recorder_name" {
  description = "Name of the AWS Config recorder, null when config.enabled is false."
  value       = one(aws_config_configuration_recorder.this[*].name)
}

output "config_bucket_name" {
  description = "Name of the bucket Config delivers configuration history and snapshots to, null when config.enabled is false."
  value       = one(aws_s3_bucket.config[*].id)
}

output "config_rule_names" {
  description = "Names of the AWS Config managed rules."
  value       = [for rule in aws_config_config_rule.managed : rule.name]
}

output "inspector_resource_types" {
  description = "Resource types Inspector scans (LAMBDA, LAMBDA_CODE), empty when inspector.enabled is false."
  value       = one(aws_inspector2_enabler.this[*].resource_types)
}

output "access_analyzer_arn" {
  description = "ARN of the external-access analyzer, null when access_analyzer.enabled is false."
  value       = one(aws_accessanalyzer_analyzer.this[*].arn)
}

output "opted_out" {
  description = "The services this module was told not to enable (the account is expected to have them already); the compliance scan reports each."
  value = [for service, settings in {
    guardduty       = var.guardduty
    security_hub    = var.security_hub
    config          = var.config
    inspector       = var.inspector
    access_analyzer = var.access_analyzer
  } : service if !settings.enabled]
}
