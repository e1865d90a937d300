# AWS Backup of the tables whose loss would lose money or cards (the vault and the ledger): a
# daily plan into a vault of its own, encrypted with its own key and locked, so that neither a
# deleted table, a compromised deployer nor a disabled table key takes the backups with it.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  vault_name = "${var.name}-backup"
}

resource "aws_backup_vault" "this" {
  name        = local.vault_name
  kms_key_arn = var.kms_key_arn
  # A vault holding recovery points is never emptied by Terraform: the lock and the retention decide.
  force_destroy = false

  tags = merge(var.tags, { DataClass = "cardholder-data" })
}

resource "aws_backup_vault_lock_configuration" "this" {
  backup_vault_name   = aws_backup_vault.this.name
  min_retention_days  = var.vault_lock.min_retention_days
  max_retention_days  = var.vault_lock.max_retention_days
  changeable_for_days = var.vault_lock.changeable_for_days
}

# DynamoDB backups with AWS Backup's advanced features are the vault's own (its key, its lock);
# without them they are plain DynamoDB backups.
resource "aws_backup_region_settings" "this" {
  count = var.manage_region_settings ? 1 : 0

  resource_type_opt_in_preference     = { DynamoDB = true }
  resource_type_management_preference = { DynamoDB = true }
}

resource "aws_backup_plan" "this" {
  name = "${var.name}-tables"

  rule {
    rule_name         = "daily"
    target_vault_name = aws_backup_vault.this.name
    schedule          = var.schedule_expression
    start_window      = 60
    completion_window = 360

    lifecycle {
      delete_after = var.retention_days
    }

    recovery_point_tags = merge(var.tags, { DataClass = "cardholder-data" })
  }

  tags = var.tags
}

resource "aws_iam_role" "this" {
  name        = "${var.name}-backup-role"
  description = "AWS Backup: backs up and restores the tables of ${var.name}'s backup plan."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AwsBackupThisAccountOnly"
      Effect    = "Allow"
      Principal = { Service = "backup.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "this" {
  for_each = toset(["AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores"])

  role       = aws_iam_role.this.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/${each.key}"
}

resource "aws_backup_selection" "this" {
  name         = "${var.name}-tables"
  plan_id      = aws_backup_plan.this.id
  iam_role_arn = aws_iam_role.this.arn
  resources    = var.dynamodb_table_arns
}

# A failed backup is silent unless someone is told (PCI DSS 10.7: failures of critical controls).
resource "aws_cloudwatch_metric_alarm" "failed_jobs" {
  for_each = {
    failed  = "NumberOfBackupJobsFailed"
    aborted = "NumberOfBackupJobsAborted"
    expired = "NumberOfBackupJobsExpired"
  }

  alarm_name          = "${var.name}-backup-jobs-${each.key}"
  alarm_description   = "A backup job of ${local.vault_name} ${each.key}: the vault or ledger tables may have no recent recovery point."
  namespace           = "AWS/Backup"
  metric_name         = each.value
  dimensions          = { BackupVaultName = aws_backup_vault.this.name }
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_sns_topic_arn]

  tags = var.tags
}
