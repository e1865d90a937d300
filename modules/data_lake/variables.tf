variable "name_prefix" {
  description = "Prefix of every resource name (<prefix>-lake-<account>, <prefix>-payment-events-to-lake, <prefix>-lake workgroup, ...)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "name_prefix must be 2-31 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "source_stream_arn" {
  description = "The payment event stream (modules/fraud_stream output stream_arn): Kinesis records, each a payment event's detail (functions/contracts/events.py)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:[0-9]{12}:stream/[A-Za-z0-9_.-]+$", var.source_stream_arn))
    error_message = "source_stream_arn must be a Kinesis stream ARN (arn:<partition>:kinesis:<region>:<account>:stream/<name>)."
  }
}

variable "source_stream_kms_key_arn" {
  description = "Customer-managed key the source stream is encrypted with (fraud_stream's data_kms_key_arn): Firehose decrypts its records through Kinesis only."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.source_stream_kms_key_arn))
    error_message = "source_stream_kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>); aliases and AWS-managed keys are refused."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed key for the lake and Athena results buckets (SSE-KMS with S3 bucket keys), the Athena query results and Firehose's S3 writes."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>); aliases and AWS-managed keys are refused."
  }
}

variable "logs_kms_key_arn" {
  description = "Customer-managed key for Firehose's error log group (the kms module's logs key)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.logs_kms_key_arn))
    error_message = "logs_kms_key_arn must be a KMS key ARN."
  }
}

variable "log_retention_days" {
  description = "Retention of Firehose's error log group, in days (a CloudWatch Logs retention value of at least 365, PCI DSS 10.5.1)."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention value of at least 365 (365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "buffering" {
  description = "Firehose buffering before it writes a Parquet object: larger objects cost fewer PUTs and scan faster. Parquet conversion needs at least 64 MB; the interval bounds how late a quiet hour lands (60-900 s)."
  type = object({
    size_mb    = optional(number, 128)
    interval_s = optional(number, 900)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.buffering.size_mb >= 64 && var.buffering.size_mb <= 128
    error_message = "buffering.size_mb must be 64-128 (Firehose's range when it converts to Parquet)."
  }
  validation {
    condition     = var.buffering.interval_s >= 60 && var.buffering.interval_s <= 900
    error_message = "buffering.interval_s must be 60-900 seconds."
  }
}

variable "retention" {
  description = "Days each kind of object is kept before lifecycle expiry: the payment events (the personal data docs/lake.md lists), records that failed conversion, Athena query results and the buckets' access logs. The events move to infrequent access after transition_days."
  type = object({
    payment_events_days = optional(number, 730)
    errors_days         = optional(number, 30)
    query_results_days  = optional(number, 7)
    access_logs_days    = optional(number, 365)
    transition_days     = optional(number, 90)
  })
  default  = {}
  nullable = false

  validation {
    condition = alltrue([
      for days in values(var.retention) : floor(days) == days && days >= 1
    ])
    error_message = "retention values must be whole numbers of days, at least 1."
  }
  validation {
    condition     = var.retention.transition_days >= 30 && var.retention.transition_days < var.retention.payment_events_days
    error_message = "retention.transition_days must be at least 30 (S3's minimum for STANDARD_IA) and shorter than payment_events_days."
  }
  validation {
    condition     = var.retention.payment_events_days <= 2557
    error_message = "retention.payment_events_days must be at most 2557 (7 years): the lake holds personal data (docs/lake.md), kept no longer than its purpose needs."
  }
  validation {
    condition     = var.retention.access_logs_days >= 365
    error_message = "retention.access_logs_days must be at least 365 (PCI DSS 10.5.1)."
  }
}

variable "athena" {
  description = "The lake's Athena workgroup: the per-query bytes-scanned limit (bytes; 10 MB to 1 TB) stops a runaway query's cost."
  type = object({
    bytes_scanned_cutoff = optional(number, 10737418240)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.athena.bytes_scanned_cutoff >= 10485760 && var.athena.bytes_scanned_cutoff <= 1099511627776
    error_message = "athena.bytes_scanned_cutoff must be between 10485760 (10 MB, Athena's minimum) and 1099511627776 (1 TB)."
  }
}

variable "force_destroy" {
  description = "Let terraform destroy delete the buckets with their objects. For the local emulator and throwaway environments only."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Deletion protection of the pseudonym key table. Turn off only for throwaway environments."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = {}
}

variable "transform" {
  description = "The transformation step Firehose runs on every record before conversion (functions.handlers.lake_transform: any Luhn-valid 13-19 digit run is redacted and counted, CardNumbersRedacted): lambda_package is the functions zip built by make build; vpc_config places it in the VPC (null: outside one; it reads only what the stream carries); alarm_sns_topic_arn receives its error and redaction alarms."
  type = object({
    lambda_package = string
    runtime        = optional(string, "python3.12")
    vpc_config = optional(object({
      subnet_ids         = list(string)
      security_group_ids = list(string)
    }))
    alarm_sns_topic_arn = optional(string)
  })

  validation {
    condition     = endswith(var.transform.lambda_package, ".zip")
    error_message = "transform.lambda_package must be the path of the functions zip (build/lambda/functions-aws.zip from make build)."
  }
}
