variable "name" {
  description = "Name of the trail and prefix of the buckets (<name>-audit-logs-<account>, <name>-access-logs-<account>), log group, topic and alarms."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,28}[a-z0-9]$", var.name))
    error_message = "name must be 3-30 lowercase letters, digits or '-', not starting or ending with '-' (it becomes part of S3 bucket names)."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key ARN (the kms module's logs key) for the trail, the archive bucket, the CloudTrail log group and the alarm topic. Its policy must admit cloudtrail.amazonaws.com, logs.<region>.amazonaws.com and cloudwatch.amazonaws.com."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "record_dynamodb_data_events" {
  description = "Record item-level (data) events of DynamoDB tables (PCI DSS 10.2.1.1): of the tables in data_event_dynamodb_table_arns, or of every table when that list is empty."
  type        = bool
  default     = true
}

variable "data_event_dynamodb_table_arns" {
  description = "Cardholder-data DynamoDB table ARNs whose item-level (data) events CloudTrail records (PCI DSS 10.2.1.1); empty records every table's. Name only the tables that hold card data (the vault's): each data event costs $1 per million, and a payment makes tens of calls on tables that hold only tokens."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.data_event_dynamodb_table_arns : can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]+$", arn))])
    error_message = "data_event_dynamodb_table_arns must hold DynamoDB table ARNs (no wildcards)."
  }
}

variable "data_event_lambda_function_arns" {
  description = "ARNs of the Lambda functions that handle cardholder data (the vault's tokenize, detokenize and admin functions) whose invocations CloudTrail records as data events (PCI DSS 10.2.1.1: who called the function that read or wrote card data, when, and with what outcome). Name only those: every data event costs $1 per million, and the hot path's other functions never see a card number."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.data_event_lambda_function_arns : can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+$", arn))])
    error_message = "data_event_lambda_function_arns must hold unqualified Lambda function ARNs (arn:aws:lambda:<region>:<account>:function:<name>, no wildcards, versions or aliases)."
  }
}

variable "data_event_s3_bucket_arns" {
  description = "Cardholder-data S3 bucket ARNs whose object-level (data) events CloudTrail records."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.data_event_s3_bucket_arns : can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", arn))])
    error_message = "data_event_s3_bucket_arns must hold S3 bucket ARNs (arn:aws:s3:::<bucket>, no object paths or wildcards)."
  }
}

variable "object_lock_mode" {
  description = "Object Lock mode of the archive's default retention. COMPLIANCE (the default, for staging and prod): nobody, root included, can delete or overwrite a log object before its retention ends. GOVERNANCE (dev and other throwaway environments): the same, except for a principal granted s3:BypassGovernanceRetention, so the environment can be torn down."
  type        = string
  default     = "COMPLIANCE"
  nullable    = false

  validation {
    condition     = contains(["COMPLIANCE", "GOVERNANCE"], var.object_lock_mode)
    error_message = "object_lock_mode must be COMPLIANCE (staging, prod) or GOVERNANCE (dev: deletable with s3:BypassGovernanceRetention)."
  }
}

variable "object_lock_retention_days" {
  description = "Object Lock retention of every log object in the archive bucket, in days: at least 365 under COMPLIANCE (PCI DSS 10.5.1), 1 or more under GOVERNANCE (a short lock lets dev be deleted soon)."
  type        = number
  default     = 365
  nullable    = false

  validation {
    condition     = var.object_lock_retention_days >= (var.object_lock_mode == "COMPLIANCE" ? 365 : 1) && var.object_lock_retention_days <= 3650 && floor(var.object_lock_retention_days) == var.object_lock_retention_days
    error_message = "object_lock_retention_days must be a whole number up to 3650, and at least 365 under COMPLIANCE (PCI DSS 10.5.1 needs 12 months; use object_lock_mode = GOVERNANCE for a short lock in dev)."
  }
}

variable "log_lifecycle" {
  description = "Archive lifecycle: logs stay in S3 Standard (immediately available) for hot_days, then move to transition_storage_class, and expire after retention_days (never before Object Lock allows). PCI DSS 10.5.1: at least 3 months immediately available, at least 12 months retained. S3 transitions no object under 128 KB (its default since September 2024), so CloudTrail's few-KB files stay in Standard, where they cost less than the 40 KB per object and the transition request Glacier would charge."
  type = object({
    hot_days                 = optional(number, 90)
    retention_days           = optional(number, 365)
    transition_storage_class = optional(string, "GLACIER")
  })
  default = {}

  validation {
    condition     = var.log_lifecycle.hot_days >= 90
    error_message = "log_lifecycle.hot_days must be at least 90 (three months immediately available)."
  }

  validation {
    condition     = var.log_lifecycle.retention_days >= 365 && var.log_lifecycle.retention_days > var.log_lifecycle.hot_days
    error_message = "log_lifecycle.retention_days must be at least 365 and greater than hot_days."
  }

  validation {
    condition     = var.log_lifecycle.retention_days >= var.object_lock_retention_days
    error_message = "log_lifecycle.retention_days must not be shorter than object_lock_retention_days."
  }

  validation {
    condition     = contains(["GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"], var.log_lifecycle.transition_storage_class)
    error_message = "log_lifecycle.transition_storage_class must be GLACIER_IR, GLACIER or DEEP_ARCHIVE."
  }
}

variable "access_log_retention_days" {
  description = "Retention of the S3 server access logs of the archive bucket."
  type        = number
  default     = 365

  validation {
    condition     = var.access_log_retention_days >= 365
    error_message = "access_log_retention_days must be at least 365."
  }
}

variable "cloudwatch_log_retention_in_days" {
  description = "Retention of the CloudTrail CloudWatch log group (used by the PCI DSS 10.2 metric filters)."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.cloudwatch_log_retention_in_days)
    error_message = "cloudwatch_log_retention_in_days must be a CloudWatch Logs retention value of at least 365 days."
  }
}

variable "metric_namespace" {
  description = "CloudWatch namespace of the PCI DSS 10.2 security metrics."
  type        = string
  default     = "PaymentsAudit"

  validation {
    condition     = can(regex("^[A-Za-z0-9_./#:-]{1,255}$", var.metric_namespace)) && !startswith(var.metric_namespace, "AWS/")
    error_message = "metric_namespace must be a valid custom CloudWatch namespace (not AWS/...)."
  }
}

variable "alarm_subscriptions" {
  description = "Optional subscribers of the alarm topic, for example [{ protocol = \"email\", endpoint = \"secops@example.com\" }]."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.alarm_subscriptions : contains(["email", "email-json", "https", "sqs", "lambda"], s.protocol)])
    error_message = "alarm_subscriptions protocol must be email, email-json, https, sqs or lambda (no plain http or sms)."
  }
}

variable "force_destroy" {
  description = "Allow destroying the buckets with objects still in them. Objects under Object Lock COMPLIANCE can still not be deleted before their retention ends (under GOVERNANCE, only by a principal with s3:BypassGovernanceRetention); keep false outside throwaway environments."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}
