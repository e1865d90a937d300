variable "name" {
  description = "Name prefix of the vault, plan, role and alarm, e.g. \"payments-prod\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,38}[a-z0-9]$", var.name))
    error_message = "name must be 3-40 lower-case letters, digits or '-', starting with a letter."
  }
}

variable "kms_key_arn" {
  description = "Customer managed key of the backup vault (modules/kms's backup key): recovery points are encrypted with it, apart from the tables' own keys."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "dynamodb_table_arns" {
  description = "The DynamoDB tables to back up (the vault's tables and the ledger): named one by one, never by a wildcard or a tag another resource could carry."
  type        = list(string)

  validation {
    condition     = length(var.dynamodb_table_arns) > 0 && alltrue([for arn in var.dynamodb_table_arns : can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]+$", arn))])
    error_message = "dynamodb_table_arns must name at least one table by its ARN (arn:<partition>:dynamodb:<region>:<account>:table/<name>, no wildcard)."
  }
}

variable "schedule_expression" {
  description = "When the backup runs, as an AWS Backup cron expression in UTC (daily at 03:00 by default)."
  type        = string
  default     = "cron(0 3 * * ? *)"
  nullable    = false

  validation {
    condition     = can(regex("^cron\\(.+\\)$", var.schedule_expression))
    error_message = "schedule_expression must be cron(...), e.g. \"cron(0 3 * * ? *)\"."
  }
}

variable "retention_days" {
  description = "Days each recovery point is kept before AWS Backup deletes it."
  type        = number
  default     = 35
  nullable    = false

  validation {
    condition     = var.retention_days >= 7 && var.retention_days <= 3650 && floor(var.retention_days) == var.retention_days
    error_message = "retention_days must be a whole number of days from 7 to 3650."
  }
}

variable "vault_lock" {
  description = <<-EOT
    The vault lock: no recovery point can be deleted, or its retention shortened, below
    min_retention_days (7 by default, at most retention_days), and none kept beyond
    max_retention_days (null: no maximum). changeable_for_days makes it a COMPLIANCE lock, which
    becomes immutable that many days (at least 3) after the apply: after that nobody, root
    included, can remove it or delete the vault while it holds recovery points. Null keeps a
    GOVERNANCE lock, which a principal with backup:DeleteBackupVaultLockConfiguration can remove.
  EOT
  type = object({
    min_retention_days  = optional(number, 7)
    max_retention_days  = optional(number)
    changeable_for_days = optional(number)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.vault_lock.min_retention_days >= 1 && var.vault_lock.min_retention_days <= var.retention_days
    error_message = "vault_lock.min_retention_days must be from 1 to retention_days: the lock would refuse the plan's own recovery points otherwise."
  }
  validation {
    condition     = var.vault_lock.max_retention_days == null || try(var.vault_lock.max_retention_days >= var.retention_days && var.vault_lock.max_retention_days <= 36500, false)
    error_message = "vault_lock.max_retention_days must be at least retention_days (and at most 36500), or null."
  }
  validation {
    condition     = var.vault_lock.changeable_for_days == null || try(var.vault_lock.changeable_for_days >= 3 && floor(var.vault_lock.changeable_for_days) == var.vault_lock.changeable_for_days, false)
    error_message = "vault_lock.changeable_for_days must be a whole number of days, at least 3 (AWS Backup's minimum grace time), or null for a GOVERNANCE lock."
  }
}

variable "manage_region_settings" {
  description = "Turn on AWS Backup for DynamoDB with its advanced features in this account and region (aws_backup_region_settings, one per account and region): without them a DynamoDB backup stays a DynamoDB backup under the table's key, outside the vault's key and lock. Set false where another stack already manages the region's settings, and keep DynamoDB's advanced features on there."
  type        = bool
  default     = true
  nullable    = false
}

variable "alarm_sns_topic_arn" {
  description = "SNS topic told when a backup job of the vault fails, is aborted or expires (the platform's alarm topic). Required: a backup that fails unheard protects nothing."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", var.alarm_sns_topic_arn))
    error_message = "alarm_sns_topic_arn must be an SNS topic ARN (arn:<partition>:sns:<region>:<account>:<topic>)."
  }
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}
