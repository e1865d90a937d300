# Unit tests: plan only, against a mocked AWS provider. They assert the audit trail, the
# tamper-proof log archive and the PCI DSS 10.2 alarms, and that unsafe inputs are refused.

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
}

override_resource {
  target          = aws_s3_bucket.archive
  override_during = plan
  values = {
    id  = "payments-audit-logs-111122223333"
    arn = "arn:aws:s3:::payments-audit-logs-111122223333"
  }
}

override_resource {
  target          = aws_s3_bucket.access_logs
  override_during = plan
  values = {
    id  = "payments-access-logs-111122223333"
    arn = "arn:aws:s3:::payments-access-logs-111122223333"
  }
}

override_resource {
  target          = aws_cloudwatch_log_group.this
  override_during = plan
  values = {
    arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/cloudtrail/payments"
  }
}

override_resource {
  target          = aws_sns_topic.alarms
  override_during = plan
  values = {
    arn = "arn:aws:sns:eu-west-1:111122223333:payments-security-alarms"
  }
}

variables {
  name                           = "payments"
  kms_key_arn                    = "arn:aws:kms:eu-west-1:111122223333:key/22222222-2222-2222-2222-222222222222"
  data_event_dynamodb_table_arns = ["arn:aws:dynamodb:eu-west-1:111122223333:table/vault"]
  data_event_s3_bucket_arns      = ["arn:aws:s3:::payments-lake-111122223333"]
}

# Each run starts the provider, so the properties that need no inputs of their own share one
# plan; each "---" heading is one property, and an assertion's error message names what failed.
run "the_trail_archive_and_alarms_with_the_defaults" {
  command = plan

  # --- trail is multi region validated and encrypted
  assert {
    condition     = aws_cloudtrail.this.is_multi_region_trail && aws_cloudtrail.this.include_global_service_events && aws_cloudtrail.this.enable_log_file_validation && aws_cloudtrail.this.enable_logging
    error_message = "The trail must be multi-region, include global events, validate log files and be logging."
  }

  assert {
    condition     = aws_cloudtrail.this.kms_key_id == var.kms_key_arn && aws_cloudtrail.this.s3_bucket_name == "payments-audit-logs-111122223333"
    error_message = "The trail must be KMS-encrypted and deliver to the archive bucket."
  }

  assert {
    condition     = aws_cloudtrail.this.cloud_watch_logs_group_arn == "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/cloudtrail/payments:*"
    error_message = "The trail must deliver to its CloudWatch log group."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.kms_key_id == var.kms_key_arn && aws_cloudwatch_log_group.this.retention_in_days >= 365
    error_message = "The CloudTrail log group must be KMS-encrypted and kept at least 365 days."
  }

  assert {
    # CloudTrail supports no source condition for this role (its user guide, "Role policy
    # document for CloudTrail to use CloudWatch Logs"): one would stop the delivery.
    condition     = jsondecode(aws_iam_role.cloudtrail.assume_role_policy).Statement == [{ Sid = "CloudTrailDelivery", Effect = "Allow", Principal = { Service = "cloudtrail.amazonaws.com" }, Action = "sts:AssumeRole" }]
    error_message = "Only CloudTrail may assume the CloudWatch delivery role, with no condition CloudTrail does not send."
  }

  # --- data events for cardholder data
  assert {
    condition     = length(aws_cloudtrail.this.advanced_event_selector) == 3
    error_message = "Expected management, DynamoDB and S3 data event selectors."
  }

  assert {
    condition = anytrue([
      for s in aws_cloudtrail.this.advanced_event_selector : anytrue([
        for f in s.field_selector : f.field == "resources.ARN" && f.equals == tolist(["arn:aws:dynamodb:eu-west-1:111122223333:table/vault"])
      ])
    ])
    error_message = "Data events must be recorded for the cardholder-data tables."
  }

  assert {
    condition = anytrue([
      for s in aws_cloudtrail.this.advanced_event_selector : anytrue([
        for f in s.field_selector : f.field == "resources.ARN" && f.starts_with == tolist(["arn:aws:s3:::payments-lake-111122223333/"])
      ])
    ])
    error_message = "Data events must be recorded for the objects of the cardholder-data buckets."
  }

  assert {
    condition = anytrue([
      for s in aws_cloudtrail.this.advanced_event_selector : anytrue([
        for f in s.field_selector : f.field == "eventCategory" && f.equals == tolist(["Management"])
      ])
    ])
    error_message = "Management events must be recorded."
  }

  # --- no function is recorded unless named
  assert {
    condition = alltrue([
      for s in aws_cloudtrail.this.advanced_event_selector : alltrue([
        for f in s.field_selector : !(f.field == "resources.type" && contains(coalesce(f.equals, []), "AWS::Lambda::Function"))
      ])
    ])
    error_message = "Lambda data events are recorded only for the functions a caller names (they cost $1 per million invocations)."
  }

  # --- archive is immutable encrypted and private
  assert {
    condition     = aws_s3_bucket.archive.object_lock_enabled && aws_s3_bucket_object_lock_configuration.archive.rule[0].default_retention[0].mode == "COMPLIANCE" && aws_s3_bucket_object_lock_configuration.archive.rule[0].default_retention[0].days == 365
    error_message = "The archive must use Object Lock in COMPLIANCE mode for 365 days by default."
  }

  assert {
    condition     = aws_s3_bucket_versioning.archive.versioning_configuration[0].status == "Enabled" && aws_s3_bucket.archive.force_destroy == false
    error_message = "The archive must be versioned and not force-destroyable by default."
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.archive.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms" && one(one(aws_s3_bucket_server_side_encryption_configuration.archive.rule).apply_server_side_encryption_by_default).kms_master_key_id == var.kms_key_arn
    error_message = "The archive must default to SSE-KMS with the customer-managed key."
  }

  assert {
    condition     = aws_s3_bucket_public_access_block.archive.block_public_acls && aws_s3_bucket_public_access_block.archive.block_public_policy && aws_s3_bucket_public_access_block.archive.ignore_public_acls && aws_s3_bucket_public_access_block.archive.restrict_public_buckets
    error_message = "The archive must block every form of public access."
  }

  assert {
    condition     = aws_s3_bucket_logging.archive.target_bucket == "payments-access-logs-111122223333"
    error_message = "The archive must log access to the separate access-log bucket."
  }

  assert {
    condition     = one(aws_s3_bucket_lifecycle_configuration.archive.rule[0].transition).days == 90 && aws_s3_bucket_lifecycle_configuration.archive.rule[0].expiration[0].days == 365 && one(aws_s3_bucket_lifecycle_configuration.archive.rule[0].noncurrent_version_expiration).noncurrent_days == 1
    error_message = "The lifecycle must keep logs hot 90 days and retain them 365 days."
  }

  assert {
    # The expired log's version is already 365 days old: counting 365 noncurrent days again kept
    # it two years, and a noncurrent transition would have to come before the 1-day expiry.
    condition     = length(aws_s3_bucket_lifecycle_configuration.archive.rule[0].noncurrent_version_transition) == 0
    error_message = "An expired log's version must go the day after it expires, not retention_days later."
  }

  # --- archive policy is tls only and trail scoped
  assert {
    condition = one([
      for s in jsondecode(aws_s3_bucket_policy.archive.policy).Statement : s if s.Sid == "DenyInsecureTransport"
    ]).Condition.Bool["aws:SecureTransport"] == "false"
    error_message = "The archive policy must deny non-TLS access."
  }

  assert {
    condition = one([
      for s in jsondecode(aws_s3_bucket_policy.archive.policy).Statement : s if s.Sid == "CloudTrailWriteThisTrailOnly"
      ]).Condition.StringEquals == {
      "aws:SourceArn" = "arn:aws:cloudtrail:eu-west-1:111122223333:trail/payments"
      "s3:x-amz-acl"  = "bucket-owner-full-control"
    }
    error_message = "CloudTrail may only write for this trail, with bucket-owner-full-control."
  }

  assert {
    condition = one([
      for s in jsondecode(aws_s3_bucket_policy.archive.policy).Statement : s if s.Sid == "CloudTrailWriteThisTrailOnly"
    ]).Resource == "arn:aws:s3:::payments-audit-logs-111122223333/AWSLogs/111122223333/*"
    error_message = "CloudTrail may only write under AWSLogs/<this account>/."
  }

  # --- access log bucket is protected too
  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.access_logs.rule).apply_server_side_encryption_by_default).sse_algorithm == "AES256"
    error_message = "The access-log bucket must be encrypted (SSE-S3: the only default encryption server access logging supports)."
  }

  assert {
    condition     = aws_s3_bucket_versioning.access_logs.versioning_configuration[0].status == "Enabled" && aws_s3_bucket_public_access_block.access_logs.block_public_policy && aws_s3_bucket_public_access_block.access_logs.restrict_public_buckets
    error_message = "The access-log bucket must be versioned and block public access."
  }

  assert {
    condition = one([
      for s in jsondecode(aws_s3_bucket_policy.access_logs.policy).Statement : s if s.Sid == "DenyInsecureTransport"
    ]).Effect == "Deny"
    error_message = "The access-log bucket must deny non-TLS access."
  }

  assert {
    condition = one([
      for s in jsondecode(aws_s3_bucket_policy.access_logs.policy).Statement : s if s.Sid == "S3ServerAccessLogsFromArchiveOnly"
    ]).Condition.ArnLike["aws:SourceArn"] == "arn:aws:s3:::payments-audit-logs-111122223333"
    error_message = "Only the archive bucket's access logs may be written."
  }

  # --- pci dss 10 2 alarms to encrypted topic
  assert {
    condition = toset(keys(aws_cloudwatch_metric_alarm.this)) == toset([
      "root_account_usage", "unauthorized_api_calls", "kms_key_disabled_or_scheduled_for_deletion",
      "iam_policy_changes", "cloudtrail_configuration_changes", "security_group_changes",
    ])
    error_message = "Expected alarms for root use, unauthorized calls, KMS disable/deletion, IAM policy, CloudTrail and security group changes."
  }

  assert {
    condition     = alltrue([for f in aws_cloudwatch_log_metric_filter.this : f.log_group_name == "/aws/cloudtrail/payments"])
    error_message = "Metric filters must run on the trail's log group."
  }

  assert {
    condition     = strcontains(aws_cloudwatch_log_metric_filter.this["root_account_usage"].pattern, "$.userIdentity.type = \"Root\"") && strcontains(aws_cloudwatch_log_metric_filter.this["kms_key_disabled_or_scheduled_for_deletion"].pattern, "ScheduleKeyDeletion")
    error_message = "Filter patterns must match the events they are named for."
  }

  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.this : a.alarm_actions == toset(["arn:aws:sns:eu-west-1:111122223333:payments-security-alarms"]) && a.threshold == 1])
    error_message = "Every alarm must fire on the first event and notify the alarm topic."
  }

  assert {
    condition     = aws_sns_topic.alarms.kms_master_key_id == var.kms_key_arn
    error_message = "The alarm topic must be KMS-encrypted."
  }

  assert {
    condition = one([
      for s in jsondecode(aws_sns_topic_policy.alarms.policy).Statement : s if s.Sid == "CloudWatchAlarmsOfThisAccountOnly"
    ]).Condition.StringEquals["aws:SourceAccount"] == "111122223333"
    error_message = "Only this account's alarms may publish to the topic."
  }
}

run "cardholder_data_functions_are_recorded_by_arn" {
  command = plan

  variables {
    data_event_lambda_function_arns = ["arn:aws:lambda:eu-west-1:111122223333:function:payments-tokenize"]
  }

  assert {
    condition     = length(aws_cloudtrail.this.advanced_event_selector) == 4
    error_message = "Expected management, DynamoDB, Lambda and S3 selectors."
  }

  assert {
    condition = anytrue([
      for s in aws_cloudtrail.this.advanced_event_selector : anytrue([
        for f in s.field_selector : f.field == "resources.type" && f.equals == tolist(["AWS::Lambda::Function"])
        ]) && anytrue([
        for f in s.field_selector : f.field == "resources.ARN" && f.equals == tolist(["arn:aws:lambda:eu-west-1:111122223333:function:payments-tokenize"])
      ])
    ])
    error_message = "Invocations of the named cardholder-data functions are recorded as data events."
  }
}

run "every_table_is_recorded_when_none_is_named" {
  command = plan

  variables {
    data_event_dynamodb_table_arns = []
    data_event_s3_bucket_arns      = []
  }

  assert {
    condition     = length(aws_cloudtrail.this.advanced_event_selector) == 2
    error_message = "Without named tables the trail still records DynamoDB data events (of every table)."
  }

  assert {
    condition = alltrue([
      for selector in aws_cloudtrail.this.advanced_event_selector :
      !contains([for f in selector.field_selector : f.field], "resources.ARN")
    ])
    error_message = "No table named: no ARN filter."
  }
}

run "management_events_only_when_data_events_are_turned_off" {
  command = plan

  variables {
    record_dynamodb_data_events    = false
    data_event_dynamodb_table_arns = []
    data_event_s3_bucket_arns      = []
  }

  assert {
    condition     = length(aws_cloudtrail.this.advanced_event_selector) == 1
    error_message = "With data events turned off only the management selector remains."
  }
}

run "dev_archive_locks_in_governance_mode_for_a_short_time" {
  command = plan

  variables {
    object_lock_mode           = "GOVERNANCE"
    object_lock_retention_days = 7
  }

  assert {
    condition     = aws_s3_bucket_object_lock_configuration.archive.rule[0].default_retention[0].mode == "GOVERNANCE" && aws_s3_bucket_object_lock_configuration.archive.rule[0].default_retention[0].days == 7
    error_message = "A GOVERNANCE lock of 7 days must reach the archive's default retention."
  }

  assert {
    condition     = aws_s3_bucket_lifecycle_configuration.archive.rule[0].expiration[0].days == 365
    error_message = "A short lock must not shorten the 12 months the logs are kept (PCI DSS 10.5.1)."
  }
}

# Unsafe inputs are refused. Each run starts the provider, so a run sets one refused value for
# each of several variables and expects each of them to fail (terraform test fails the run if
# any listed variable does not). Two values of one variable need two runs. Terraform does not
# check a variable whose rules read a refused variable, and log_lifecycle's rules read
# object_lock_retention_days, whose rules read object_lock_mode: a refused lock or mode never
# shares a run with a value of a variable that reads it. The comment above each value names
# the rule it exercises.
run "unsafe_inputs_are_refused_1" {
  command = plan

  variables {
    # a hot period under 90 days is refused
    log_lifecycle = {
      hot_days = 30
    }
    # function wildcards are refused
    data_event_lambda_function_arns = ["arn:aws:lambda:eu-west-1:111122223333:function:*"]
    # a wildcard data event table is refused
    data_event_dynamodb_table_arns = ["arn:aws:dynamodb:eu-west-1:111122223333:table/*"]
  }

  expect_failures = [
    var.log_lifecycle,
    var.data_event_lambda_function_arns,
    var.data_event_dynamodb_table_arns,
  ]
}

run "unsafe_inputs_are_refused_2" {
  command = plan

  variables {
    # a retention under a year is refused
    log_lifecycle = {
      retention_days = 200
    }
    # a short cloudwatch retention is refused
    cloudwatch_log_retention_in_days = 90
    # a plain http alarm subscription is refused
    alarm_subscriptions = [{ protocol = "http", endpoint = "http://example.com/hook" }]
  }

  expect_failures = [
    var.log_lifecycle,
    var.cloudwatch_log_retention_in_days,
    var.alarm_subscriptions,
  ]
}

run "refuses_expiry_before_object_lock_ends" {
  command = plan

  variables {
    object_lock_retention_days = 730
    log_lifecycle = {
      retention_days = 400
    }
  }

  expect_failures = [var.log_lifecycle]
}

run "refuses_short_object_lock" {
  command = plan

  variables {
    object_lock_retention_days = 30
  }

  expect_failures = [var.object_lock_retention_days]
}

run "refuses_a_short_lock_in_compliance_mode" {
  command = plan

  variables {
    object_lock_mode           = "COMPLIANCE"
    object_lock_retention_days = 7
  }

  expect_failures = [var.object_lock_retention_days]
}

run "refuses_an_unknown_lock_mode" {
  command = plan

  variables {
    object_lock_mode = "LEGAL_HOLD"
  }

  expect_failures = [var.object_lock_mode]
}
