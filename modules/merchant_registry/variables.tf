variable "name_prefix" {
  description = "Prefix of every resource name (<prefix>-merchants, <prefix>-merchant-authorizer)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "name_prefix must be 2-31 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "environment" {
  description = "Environment name, passed to the authorizer (PAYMENTS_ENVIRONMENT): prod accepts sk_live_ keys only, every other environment sk_test_ keys only."
  type        = string

  validation {
    condition     = contains(["local", "dev", "staging", "prod"], var.environment)
    error_message = "environment must be local, dev, staging or prod."
  }
}

variable "data_kms_key_arn" {
  description = "Customer-managed key (the kms module's application key) for the registry table and the authorizer's environment."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.data_kms_key_arn))
    error_message = "data_kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>); aliases and AWS-managed keys are refused."
  }
}

variable "logs_kms_key_arn" {
  description = "Customer-managed key for the authorizer's log group (the kms module's logs key)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.logs_kms_key_arn))
    error_message = "logs_kms_key_arn must be a KMS key ARN."
  }
}

variable "lambda_package" {
  description = "Path to the functions zip built by make build (the handler is functions.handlers.merchant_authorizer.handler)."
  type        = string
}

variable "lambda_runtime" {
  description = "Python runtime of the authorizer."
  type        = string
  default     = "python3.12"
}

variable "vpc_config" {
  description = "Subnets and security groups of the authorizer (it reaches DynamoDB only). Required; null runs it outside a VPC."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  nullable = true
}

variable "authorizer" {
  description = "The authorizer function: reserved concurrency (it runs on cache misses only; every merchant request waits on it then), timeout (seconds) and memory (MB). API Gateway waits at most 29 s for it."
  type = object({
    reserved_concurrency = optional(number, 20)
    timeout              = optional(number, 5)
    memory_size          = optional(number, 256)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.authorizer.reserved_concurrency >= 1
    error_message = "authorizer.reserved_concurrency must be at least 1 (0 would refuse every merchant)."
  }
  validation {
    condition     = var.authorizer.timeout >= 1 && var.authorizer.timeout <= 29
    error_message = "authorizer.timeout must be between 1 and 29 seconds."
  }
  validation {
    condition     = var.authorizer.memory_size >= 128 && var.authorizer.memory_size <= 10240
    error_message = "authorizer.memory_size must be between 128 and 10240 MB."
  }
}

variable "api_gateway" {
  description = "The REST API whose authorizers may invoke the function (execution_arn: payment_workflow's api_execution_arn). Null grants no invoke permission."
  type = object({
    execution_arn = string
  })
  default = null

  validation {
    condition     = var.api_gateway == null || can(regex("^arn:aws[a-z-]*:execute-api:[a-z0-9-]+:[0-9]{12}:[a-z0-9]+$", var.api_gateway.execution_arn))
    error_message = "api_gateway.execution_arn must be a REST API's execution ARN (arn:<partition>:execute-api:<region>:<account>:<api id>)."
  }
}

variable "log_level" {
  description = "Powertools log level of the authorizer (refusals are logged at WARNING, with their reason and never the key)."
  type        = string
  default     = "WARNING"
}

variable "log_retention_days" {
  description = "Retention of the authorizer's logs (PCI DSS 10.5.1: at least 365)."
  type        = number
  default     = 365
}

variable "alarm_sns_topic_arn" {
  description = "SNS topic the authorizer's alarms notify; null creates them without actions."
  type        = string
  default     = null
}

variable "deletion_protection" {
  description = "Deletion protection of the registry table (every merchant's credentials)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}

variable "usage_plans" {
  description = "Usage plan id by merchant tier (payment_workflow's merchant_usage_plan_ids), written to the registry's config#usage_plans item: onboarding reads it to put each merchant's API Gateway API key on its tier's plan, with no configuration of its own. Empty writes no item (onboarding then refuses to make usage keys)."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for tier, id in var.usage_plans : can(regex("^[a-z][a-z0-9_]{0,31}$", tier)) && length(id) > 0])
    error_message = "usage_plans keys must be merchant tiers (1-32 lowercase letters, digits or _) and values usage plan ids."
  }
}
