# Unit tests: plan only, against a mocked AWS provider. The vault is encrypted with the given key
# and locked, the plan keeps what it says for as long as it says, only the named tables are
# selected, the role is AWS Backup's in this account only, failures reach the alarm topic, and
# values the lock or AWS Backup would refuse are refused at plan.

mock_provider "aws" {
  override_during = plan

  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "111122223333" }
  }
  override_data {
    target = data.aws_partition.current
    values = { partition = "aws" }
  }
  mock_resource "aws_backup_vault" {
    defaults = { arn = "arn:aws:backup:eu-west-1:111122223333:backup-vault:payments-prod-backup" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::111122223333:role/payments-prod-backup-role" }
  }
}

variables {
  name        = "payments-prod"
  kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/33333333-3333-3333-3333-333333333333"
  dynamodb_table_arns = [
    "arn:aws:dynamodb:eu-west-1:111122223333:table/payments-prod-vault",
    "arn:aws:dynamodb:eu-west-1:111122223333:table/payments-prod-ledger",
  ]
  alarm_sns_topic_arn = "arn:aws:sns:eu-west-1:111122223333:payments-prod-alarms"
}

run "vault_is_encrypted_with_its_key_and_locked" {
  command = plan

  variables {
    vault_lock = { changeable_for_days = 3 }
  }

  assert {
    condition     = aws_backup_vault.this.kms_key_arn == var.kms_key_arn && aws_backup_vault.this.force_destroy == false
    error_message = "The vault must be encrypted with the given key and never emptied by Terraform."
  }

  assert {
    condition     = aws_backup_vault_lock_configuration.this.min_retention_days == 7 && aws_backup_vault_lock_configuration.this.changeable_for_days == 3
    error_message = "The vault lock must hold recovery points at least 7 days and become immutable (COMPLIANCE) after the grace time."
  }
}

# Each run starts the provider, so the properties that need no inputs of their own share one
# plan; each "---" heading is one property, and an assertion's error message names what failed.
run "the_backups_with_the_defaults" {
  command = plan

  # --- plan keeps daily recovery points for the retention
  assert {
    condition     = one(aws_backup_plan.this.rule).schedule == "cron(0 3 * * ? *)" && one(one(aws_backup_plan.this.rule).lifecycle).delete_after == 35
    error_message = "The plan must back up daily and keep each recovery point retention_days (35)."
  }

  assert {
    condition     = one(aws_backup_plan.this.rule).target_vault_name == "payments-prod-backup"
    error_message = "The plan must write into the module's locked vault."
  }

  assert {
    condition     = aws_backup_vault_lock_configuration.this.changeable_for_days == null
    error_message = "Without changeable_for_days the lock stays GOVERNANCE (removable), as documented."
  }

  # --- only the named tables are selected
  assert {
    condition     = toset(aws_backup_selection.this.resources) == toset(var.dynamodb_table_arns) && length(aws_backup_selection.this.selection_tag) == 0
    error_message = "The selection must be exactly the named tables, not a tag another resource could carry."
  }

  assert {
    condition     = aws_backup_region_settings.this[0].resource_type_opt_in_preference["DynamoDB"] && aws_backup_region_settings.this[0].resource_type_management_preference["DynamoDB"]
    error_message = "DynamoDB backups must use AWS Backup's advanced features (the vault's key and lock)."
  }

  # --- role is aws backups in this account only
  assert {
    condition     = jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Principal.Service == "backup.amazonaws.com" && jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "111122223333"
    error_message = "Only AWS Backup, acting for this account, may assume the role."
  }

  assert {
    condition     = toset([for a in aws_iam_role_policy_attachment.this : a.policy_arn]) == toset(["arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup", "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores"])
    error_message = "The role must hold AWS Backup's backup and restore policies and nothing else."
  }

  # --- failed aborted and expired jobs raise alarms
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.failed_jobs) == 3 && alltrue([for a in aws_cloudwatch_metric_alarm.failed_jobs : a.alarm_actions == toset([var.alarm_sns_topic_arn]) && a.threshold == 0])
    error_message = "Any failed, aborted or expired backup job must alarm to the topic."
  }
}

run "region_settings_can_be_left_to_another_stack" {
  command = plan

  variables {
    manage_region_settings = false
  }

  assert {
    condition     = length(aws_backup_region_settings.this) == 0
    error_message = "manage_region_settings = false must leave the account's region settings alone."
  }
}

# A refused grace time and a refused table share a run (terraform test fails it if either
# variable does not fail): each run starts the provider. The vault lock's rules read
# retention_days, so the lock's other refusals and a refused retention keep runs of their own.
run "refuses_a_grace_time_under_three_days_and_a_wildcard_table" {
  command = plan

  variables {
    # a grace time under three days is refused
    vault_lock = { changeable_for_days = 1 }
    # a wildcard table is refused
    dynamodb_table_arns = ["arn:aws:dynamodb:eu-west-1:111122223333:table/*"]
  }

  expect_failures = [var.vault_lock, var.dynamodb_table_arns]
}

run "refuses_a_lock_longer_than_the_retention" {
  command = plan

  variables {
    retention_days = 14
    vault_lock     = { min_retention_days = 30 }
  }

  expect_failures = [var.vault_lock]
}

run "refuses_a_short_retention" {
  command = plan

  variables {
    retention_days = 1
  }

  expect_failures = [var.retention_days]
}
