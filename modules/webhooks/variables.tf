variable "name_prefix" {
  description = "Prefix of every resource name (<prefix>-webhooks, <prefix>-webhooks-api, <prefix>-webhook-delivery, their queues)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "name_prefix must be 2-31 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "environment" {
  description = "Environment name (local, dev, staging, prod). Only local may opt out of the endpoint URL rules (endpoint_policy)."
  type        = string

  validation {
    condition     = contains(["local", "dev", "staging", "prod"], var.environment)
    error_message = "environment must be local, dev, staging or prod."
  }
}

variable "data_kms_key_arn" {
  description = "Customer-managed key (the kms module's application key): the endpoints and delivery log table, both queues, the functions' environment and the sealed signing secrets (kms:Encrypt/Decrypt under each endpoint's context). Its policy must let EventBridge use it for this account's SQS queues (the kms module's does)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.data_kms_key_arn))
    error_message = "data_kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>); aliases and AWS-managed keys are refused."
  }
}

variable "logs_kms_key_arn" {
  description = "Customer-managed key for the functions' log groups (the kms module's logs key)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.logs_kms_key_arn))
    error_message = "logs_kms_key_arn must be a KMS key ARN."
  }
}

variable "lambda_package" {
  description = "Path to the functions zip built by make build (handlers functions.handlers.webhooks_api.handler and functions.handlers.webhook_delivery.handler)."
  type        = string
}

variable "lambda_runtime" {
  description = "Python runtime of both functions."
  type        = string
  default     = "python3.12"
}

variable "vpc_config" {
  description = "Subnets and security groups of the API function (it reaches DynamoDB and KMS only). Required; null runs it outside a VPC. The delivery function always runs outside the VPC: it calls merchants' servers on the internet and sees no card data, and giving the cardholder-data VPC a route to any internet host is what the network module prevents."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  nullable = true
}

variable "event_bus" {
  description = "The payment bus (payment_workflow's): every payment.*, fraud.alert (merchant subjects) and bnpl.* event on it is delivered to its merchant's endpoints. dead_letter_queue_arn, when set, receives the events the rule could not put on the webhook queue within its retries."
  type = object({
    name                  = string
    arn                   = string
    dead_letter_queue_arn = optional(string)
  })

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/.+$", var.event_bus.arn))
    error_message = "event_bus.arn must be an EventBridge bus ARN."
  }
  validation {
    condition     = try(var.event_bus.dead_letter_queue_arn, null) == null || can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:.+$", var.event_bus.dead_letter_queue_arn))
    error_message = "event_bus.dead_letter_queue_arn must be an SQS queue ARN."
  }
}

variable "api_gateway" {
  description = "The REST API that serves the webhook routes (payment_workflow's api_execution_arn and webhook_routes): the API function may be invoked for those routes only. Null grants no invoke permission."
  type = object({
    execution_arn = string
    routes        = map(object({ method = string, path = string }))
  })
  default = null

  validation {
    condition     = var.api_gateway == null || can(regex("^arn:aws[a-z-]*:execute-api:[a-z0-9-]+:[0-9]{12}:[a-z0-9]+$", var.api_gateway.execution_arn))
    error_message = "api_gateway.execution_arn must be a REST API's execution ARN."
  }
}

variable "endpoint_policy" {
  description = "Where deliveries may go. By default an endpoint is an https URL whose host is public: plain http and private, loopback, link-local (the metadata service) or shared addresses are refused at registration and at every delivery (SSRF). allow_http and allow_private_addresses exist for the local emulator's test receiver (http on 127.0.0.1) and are refused in any other environment."
  type = object({
    allow_http              = optional(bool, false)
    allow_private_addresses = optional(bool, false)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.environment == "local" || !(var.endpoint_policy.allow_http || var.endpoint_policy.allow_private_addresses)
    error_message = "endpoint_policy.allow_http and allow_private_addresses are for environment = \"local\" only: a deployed platform delivers over https to public hosts."
  }
}

variable "retry" {
  description = "Retries of a failed delivery: exponential backoff with jitter, attempt n waiting between half and all of base_delay_seconds * 2^(n-1), at most max_delay_seconds; the delivery is failed when the next attempt would start give_up_after_hours after the first."
  type = object({
    base_delay_seconds  = optional(number, 30)
    max_delay_seconds   = optional(number, 3600)
    give_up_after_hours = optional(number, 24)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.retry.base_delay_seconds >= 1 && var.retry.base_delay_seconds <= var.retry.max_delay_seconds
    error_message = "retry.base_delay_seconds must be at least 1 and at most retry.max_delay_seconds."
  }
  validation {
    condition     = var.retry.max_delay_seconds <= 6 * 3600
    error_message = "retry.max_delay_seconds must be at most 21600 (6 hours)."
  }
  validation {
    condition     = var.retry.give_up_after_hours >= 1 && var.retry.give_up_after_hours <= 72
    error_message = "retry.give_up_after_hours must be between 1 and 72."
  }
}

variable "delivery" {
  description = "The delivery function: per-request timeout (seconds), its function timeout, memory (MB), reserved concurrency (how many merchants' servers it calls at once) and SQS batch size."
  type = object({
    http_timeout_seconds = optional(number, 10)
    timeout              = optional(number, 60)
    memory_size          = optional(number, 256)
    reserved_concurrency = optional(number, 10)
    batch_size           = optional(number, 5)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.delivery.http_timeout_seconds >= 1 && var.delivery.http_timeout_seconds * var.delivery.batch_size < var.delivery.timeout
    error_message = "delivery.http_timeout_seconds times delivery.batch_size must be under delivery.timeout, so a batch of slow endpoints ends before the function does."
  }
  validation {
    condition     = var.delivery.timeout >= 10 && var.delivery.timeout <= 900
    error_message = "delivery.timeout must be between 10 and 900 seconds."
  }
  validation {
    condition     = var.delivery.reserved_concurrency >= 1 && var.delivery.batch_size >= 1 && var.delivery.batch_size <= 10
    error_message = "delivery.reserved_concurrency must be at least 1 and delivery.batch_size between 1 and 10."
  }
}

variable "delivery_log_retention_days" {
  description = "How long an endpoint's delivery log is kept (the table's TTL removes older deliveries)."
  type        = number
  default     = 30

  validation {
    condition     = var.delivery_log_retention_days >= 1 && var.delivery_log_retention_days <= 400
    error_message = "delivery_log_retention_days must be between 1 and 400."
  }
}

variable "log_level" {
  description = "Powertools log level of both functions (refusals at INFO, failures at ERROR with their type only, never a payload or a secret)."
  type        = string
  default     = "WARNING"
}

variable "log_retention_days" {
  description = "Retention of the functions' logs (PCI DSS 10.5.1: at least 365)."
  type        = number
  default     = 365
}

variable "alarm_sns_topic_arn" {
  description = "SNS topic the functions' and the dead-letter queues' alarms notify; null creates them without actions."
  type        = string
  default     = null
}

variable "deletion_protection" {
  description = "Deletion protection of the endpoints table (every merchant's endpoints and sealed secrets)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}
