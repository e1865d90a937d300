# Unit tests: plan only, against a mocked AWS provider. They assert that every service is on by
# default with the settings PCI DSS asks for, that each opt-out removes exactly its service and
# is reported, and that unsafe inputs are refused.

mock_provider "aws" {
  override_during = plan

  override_data {
    target = data.aws_caller_identity.current
    values = {
      account_id = "111122223333"
    }
  }
  override_data {
    target = data.aws_partition.current
    values = {
      partition = "aws"
    }
  }
  override_data {
    target = data.aws_region.current
    values = {
      id   = "eu-west-1"
      name = "eu-west-1"
    }
  }
  override_data {
    target = data.aws_iam_policy_document.config_assume
    values = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
  override_data {
    target = data.aws_iam_policy_document.config_delivery
    values = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

override_resource {
  target          = aws_s3_bucket.config
  override_during = plan
  values = {
    id  = "payments-config-111122223333"
    arn = "arn:aws:s3:::payments-config-111122223333"
  }
}

variables {
  name        = "payments"
  kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"
}

# Each run starts the provider, so the properties that need no inputs of their own share one
# plan; each "---" heading is one property, and an assertion's error message names what failed.
run "the_baseline_with_the_defaults" {
  command = plan

  # --- every service is enabled by default
  assert {
    condition     = length(aws_accessanalyzer_analyzer.this) == 1 && aws_accessanalyzer_analyzer.this[0].type == "ACCOUNT"
    error_message = "IAM Access Analyzer must report external access to the account by default."
  }
  assert {
    condition     = length(aws_guardduty_detector.this) == 1 && aws_guardduty_detector.this[0].enable
    error_message = "GuardDuty must be enabled by default."
  }
  assert {
    condition = alltrue([
      for name in ["S3_DATA_EVENTS", "LAMBDA_NETWORK_LOGS"] : aws_guardduty_detector_feature.this[name].status == "ENABLED"
    ])
    error_message = "GuardDuty's S3 and Lambda protection must be enabled by default."
  }
  assert {
    condition     = length(aws_securityhub_account.this) == 1 && !aws_securityhub_account.this[0].enable_default_standards
    error_message = "Security Hub must be enabled, with its standards chosen explicitly."
  }
  assert {
    condition = toset([for s in aws_securityhub_standards_subscription.this : s.standards_arn]) == toset([
      "arn:aws:securityhub:eu-west-1::standards/pci-dss/v/4.0.1",
      "arn:aws:securityhub:eu-west-1::standards/aws-foundational-security-best-practices/v/1.0.0",
    ])
    error_message = "Security Hub must subscribe the PCI DSS v4.0.1 and Foundational Security Best Practices standards."
  }
  assert {
    condition     = toset(aws_inspector2_enabler.this[0].resource_types) == toset(["LAMBDA", "LAMBDA_CODE"])
    error_message = "Inspector must scan the Lambda functions' packages and code."
  }
  assert {
    condition     = output.opted_out == []
    error_message = "Nothing is opted out by default."
  }

  # --- config records everything to a cmk encrypted bucket
  assert {
    condition = (
      aws_config_configuration_recorder.this[0].recording_group[0].all_supported &&
      aws_config_configuration_recorder.this[0].recording_group[0].include_global_resource_types
    )
    error_message = "The recorder must record every supported resource type, global ones included."
  }
  assert {
    condition     = aws_config_configuration_recorder_status.this[0].is_enabled
    error_message = "The recorder must be started."
  }
  assert {
    condition     = aws_config_delivery_channel.this[0].s3_kms_key_arn == var.kms_key_arn
    error_message = "Config must encrypt its deliveries with the CMK."
  }
  assert {
    condition = alltrue([
      for rule in aws_s3_bucket_server_side_encryption_configuration.config[0].rule :
      alltrue([for d in rule.apply_server_side_encryption_by_default : d.sse_algorithm == "aws:kms" && d.kms_master_key_id == var.kms_key_arn])
    ])
    error_message = "The delivery bucket must default to SSE-KMS with the CMK."
  }
  assert {
    condition     = strcontains(aws_s3_bucket_policy.config[0].policy, "aws:SecureTransport")
    error_message = "The delivery bucket must refuse requests without TLS."
  }
  assert {
    condition = (
      aws_s3_bucket_public_access_block.config[0].block_public_acls &&
      aws_s3_bucket_public_access_block.config[0].restrict_public_buckets
    )
    error_message = "The delivery bucket must block public access."
  }
  assert {
    condition     = alltrue([for r in aws_s3_bucket_lifecycle_configuration.config[0].rule : alltrue([for e in r.expiration : e.days >= 365])])
    error_message = "Configuration history must be kept at least a year."
  }
  assert {
    condition     = contains([for r in aws_config_config_rule.managed : r.source[0].source_identifier], "CMK_BACKING_KEY_ROTATION_ENABLED")
    error_message = "The managed rules must be deployed."
  }
  assert {
    condition = length(setintersection(
      [for r in aws_config_config_rule.managed : r.source[0].source_identifier],
      ["CLOUD_TRAIL_ENABLED", "GUARDDUTY_ENABLED_CENTRALIZED", "SECURITYHUB_ENABLED"]
    )) == 3
    error_message = "Config must flag a stopped trail, GuardDuty or Security Hub (PCI DSS 10.7.2)."
  }
}

run "each_opt_out_removes_its_service_and_is_reported" {
  command = plan

  variables {
    guardduty       = { enabled = false }
    security_hub    = { enabled = false }
    config          = { enabled = false }
    inspector       = { enabled = false }
    access_analyzer = { enabled = false }
  }

  assert {
    condition = (
      length(aws_guardduty_detector.this) + length(aws_guardduty_detector_feature.this) +
      length(aws_securityhub_account.this) + length(aws_securityhub_standards_subscription.this) +
      length(aws_config_configuration_recorder.this) + length(aws_s3_bucket.config) +
      length(aws_config_config_rule.managed) + length(aws_inspector2_enabler.this) +
      length(aws_accessanalyzer_analyzer.this)
    ) == 0
    error_message = "An opted-out service must create nothing."
  }
  assert {
    condition     = toset(output.opted_out) == toset(["guardduty", "security_hub", "config", "inspector", "access_analyzer"])
    error_message = "Every opt-out must be reported."
  }
}

run "a_standard_can_be_left_out_alone" {
  command = plan

  variables {
    security_hub = { foundational_best_practices = false }
  }

  assert {
    condition     = keys(aws_securityhub_standards_subscription.this) == ["pci_dss"]
    error_message = "Leaving out FSBP must keep the PCI DSS standard."
  }
}

# Bad inputs are refused. Each run starts the provider, so one run sets a refused value for each
# of several variables and expects each of them to fail (terraform test fails the run if any
# listed variable does not); the comment above each value names the rule it exercises.
run "bad_inputs_are_refused" {
  command = plan

  variables {
    # config history shorter than a year is refused
    config = { delivery_retention_days = 90 }
    # an unknown guardduty publishing frequency is refused
    guardduty = { finding_publishing_frequency = "ONE_DAY" }
    # a key that is not a kms arn is refused
    kms_key_arn = "alias/aws/s3"
  }

  expect_failures = [
    var.config,
    var.guardduty,
    var.kms_key_arn,
  ]
}
