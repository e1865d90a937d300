variable "name_prefix" {
  description = "Prefix of every resource name (<prefix>-payment-stream, <prefix>-fraud-features, <prefix>-fraud-stream, ...)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "name_prefix must be 2-31 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "environment" {
  description = "Environment name, passed to the consumer (PAYMENTS_ENVIRONMENT)."
  type        = string

  validation {
    condition     = contains(["local", "dev", "staging", "prod"], var.environment)
    error_message = "environment must be local, dev, staging or prod."
  }
}

variable "event_bus" {
  description = "The payment event bus (modules/payment_workflow outputs event_bus_name, event_bus_arn and event_dead_letter_queue_arn): its authorization events feed the stream, and fraud.alert events are published on it. dead_letter_queue_arn, when set, receives the events a rule could not put on the stream within its retries."
  type = object({
    name                  = string
    arn                   = string
    dead_letter_queue_arn = optional(string)
  })

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/.+$", var.event_bus.arn))
    error_message = "event_bus.arn must be an EventBridge event bus ARN."
  }
  validation {
    condition     = try(var.event_bus.dead_letter_queue_arn, null) == null || can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:.+$", var.event_bus.dead_letter_queue_arn))
    error_message = "event_bus.dead_letter_queue_arn must be an SQS queue ARN."
  }
}

variable "data_kms_key_arn" {
  description = "Customer-managed key (the kms module's application key) for the stream, the feature and block-list tables, the consumer's environment and its on-failure queue."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.data_kms_key_arn))
    error_message = "data_kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>); aliases and AWS-managed keys are refused."
  }
}

variable "logs_kms_key_arn" {
  description = "Customer-managed key for the consumer's log group (the kms module's logs key)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.logs_kms_key_arn))
    error_message = "logs_kms_key_arn must be a KMS key ARN."
  }
}

variable "lambda_package" {
  description = "Path to the functions zip built by make build (the consumer's handler is functions.handlers.fraud_stream.handler)."
  type        = string
}

variable "lambda_runtime" {
  description = "Python runtime of the consumer."
  type        = string
  default     = "python3.12"
}

variable "vpc_config" {
  description = "Subnets and security groups of the consumer. Required; null runs it outside a VPC (the stream holds no card number, but it does hold card keys and IPs)."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  nullable = true
}

variable "stream" {
  description = "The payment event stream: on-demand capacity, retention in hours (24 to 8760; longer retention gives more time to replay after a consumer outage, and costs more per GB-month)."
  type = object({
    retention_hours = optional(number, 24)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.stream.retention_hours >= 24 && var.stream.retention_hours <= 8760 && floor(var.stream.retention_hours) == var.stream.retention_hours
    error_message = "stream.retention_hours must be a whole number of hours from 24 to 8760."
  }
}

variable "consumer" {
  description = <<-EOT
    The consumer's event source mapping and function. Retries are bounded (maximum_retry_attempts,
    maximum_record_age_in_seconds) and a failing batch is bisected, so a poison record ends alone
    in the on-failure queue while the rest of its batch is counted. batch_size (records per
    invocation, 1 to 10000) and maximum_batching_window_in_seconds trade the alert's latency
    against invocations: a larger batch costs fewer invocations and GB-seconds per event, and a
    record waits for the records before it in its batch. parallelization_factor stays 1: the
    consumer's idempotency is a per-shard high-water mark on each subject, which needs a shard's
    records in sequence order (with more than one batch per shard in flight, Lambda keeps the
    order per partition key only); on demand, the stream adds shards as traffic grows.
  EOT
  type = object({
    batch_size                         = optional(number, 100)
    maximum_batching_window_in_seconds = optional(number, 1)
    maximum_retry_attempts             = optional(number, 3)
    maximum_record_age_in_seconds      = optional(number, 3600)
    parallelization_factor             = optional(number, 1)
    starting_position                  = optional(string, "TRIM_HORIZON")
    reserved_concurrency               = optional(number, 4)
    timeout                            = optional(number, 60)
    memory_size                        = optional(number, 512)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.consumer.batch_size >= 1 && var.consumer.batch_size <= 10000
    error_message = "consumer.batch_size must be between 1 and 10000."
  }
  validation {
    condition     = var.consumer.maximum_batching_window_in_seconds >= 0 && var.consumer.maximum_batching_window_in_seconds <= 300
    error_message = "consumer.maximum_batching_window_in_seconds must be between 0 and 300."
  }
  validation {
    # -1 (retry until the record expires) is refused: one poison record would stop its shard.
    condition     = var.consumer.maximum_retry_attempts >= 0 && var.consumer.maximum_retry_attempts <= 10
    error_message = "consumer.maximum_retry_attempts must be between 0 and 10 (unbounded retries would let one poison record hold its shard)."
  }
  validation {
    condition     = var.consumer.maximum_record_age_in_seconds >= 60 && var.consumer.maximum_record_age_in_seconds <= 604800
    error_message = "consumer.maximum_record_age_in_seconds must be between 60 and 604800 (unbounded, -1, is refused)."
  }
  validation {
    condition     = floor(var.consumer.batch_size) == var.consumer.batch_size
    error_message = "consumer.batch_size must be a whole number of records."
  }
  validation {
    condition     = var.consumer.parallelization_factor == 1
    error_message = "consumer.parallelization_factor must be 1: the consumer counts each record once by a per-shard sequence mark, which needs each shard's records in order (more shards, not more batches per shard, scale it)."
  }
  validation {
    condition     = contains(["TRIM_HORIZON", "LATEST"], var.consumer.starting_position)
    error_message = "consumer.starting_position must be TRIM_HORIZON or LATEST."
  }
  validation {
    condition     = var.consumer.reserved_concurrency >= 1
    error_message = "consumer.reserved_concurrency must be at least 1 (0 would stop the consumer)."
  }
  validation {
    condition     = var.consumer.timeout >= 10 && var.consumer.timeout <= 900
    error_message = "consumer.timeout must be between 10 and 900 seconds."
  }
  validation {
    condition     = var.consumer.memory_size >= 128 && var.consumer.memory_size <= 10240
    error_message = "consumer.memory_size must be between 128 and 10240 MB."
  }
}

variable "alerting" {
  description = <<-EOT
    When the consumer raises a fraud.alert and blocks its subject (docs/models/fraud.md, "The
    stream"): distinct cards per device or IP in an hour (card testing), attempts per card in
    ten minutes (a stolen card's burst), distinct cards per BIN in ten minutes (a BIN attack: an
    alert on the merchant, never a block), and a model score at or above model_block_score.
    block_ttl_seconds is how long the hot path declines a blocked card, device or IP.
  EOT
  type = object({
    cards_per_device_1h   = optional(number, 5)
    cards_per_ip_1h       = optional(number, 8)
    attempts_per_card_10m = optional(number, 6)
    cards_per_bin_10m     = optional(number, 20)
    model_block_score     = optional(number, 95)
    block_ttl_seconds     = optional(number, 86400)
  })
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for k, v in var.alerting : v >= 2 && floor(v) == v if k != "model_block_score" && k != "block_ttl_seconds"])
    error_message = "alerting thresholds must be whole numbers of at least 2."
  }
  validation {
    condition     = var.alerting.model_block_score >= 1 && var.alerting.model_block_score <= 101
    error_message = "alerting.model_block_score must be between 1 and 100 (101 switches model alerts off)."
  }
  validation {
    condition     = var.alerting.block_ttl_seconds >= 60 && var.alerting.block_ttl_seconds <= 2592000
    error_message = "alerting.block_ttl_seconds must be between 60 and 2592000 (30 days)."
  }
}

variable "alert_rate_alarm_threshold" {
  description = "fraud.alert events per 5 minutes that raise the alert-rate alarm (an attack in progress, or rules set too tight)."
  type        = number
  default     = 20

  validation {
    condition     = var.alert_rate_alarm_threshold >= 1
    error_message = "alert_rate_alarm_threshold must be at least 1."
  }
}

variable "hot_path_readers" {
  description = "Roles that read the block list and the features on the payment hot path, by a key known at plan time (for example { assess_risk = <the assess_risk role's name> } from modules/payment_workflow): each gets GetItem/BatchGetItem on the two tables and the key through DynamoDB for them, nothing else."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "log_level" {
  description = "Powertools log level of the consumer."
  type        = string
  default     = "WARNING"
}

variable "log_retention_days" {
  description = "Retention of the consumer's logs (PCI DSS 10.5.1: at least 365)."
  type        = number
  default     = 365
}

variable "alarm_sns_topic_arn" {
  description = "SNS topic the alert-rate alarm and the consumer's alarms notify; null creates them without actions."
  type        = string
  default     = null
}

variable "deletion_protection" {
  description = "Deletion protection of the feature and block-list tables."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}
