variable "name" {
  description = "Function name. Also names the log group (/aws/lambda/<name>), the role (<name>-role), the failure queue (<name>-failures) and the alarms."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,55}$", var.name))
    error_message = "name must be 1-55 characters of letters, digits, '-' or '_' (55 leaves room for the role and queue suffixes)."
  }
}

variable "description" {
  description = "Function description."
  type        = string
  default     = ""
}

variable "filename" {
  description = "Path to the deployment zip, built outside Terraform (make build). Terraform only reads it: source_code_hash = filebase64sha256(filename)."
  type        = string

  validation {
    condition     = fileexists(var.filename)
    error_message = "filename must point at an existing file (run `make build` first)."
  }
}

variable "handler" {
  description = "Entry point, for example \"functions.handlers.tokenize.handler\"."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.]+\\.[A-Za-z0-9_]+$", var.handler))
    error_message = "handler must look like \"package.module.function\"."
  }
}

variable "runtime" {
  description = "Lambda runtime. Only supported Python runtimes are accepted; python3.11 is what the local emulator's workers run, matching the zip built for them."
  type        = string
  default     = "python3.12"

  validation {
    condition     = contains(["python3.11", "python3.12", "python3.13"], var.runtime)
    error_message = "runtime must be python3.11, python3.12 or python3.13."
  }
}

variable "architecture" {
  description = "Instruction set architecture; must match how the zip was built."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "memory_size" {
  description = "Memory in MB."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB between 128 and 10240."
  }
}

variable "timeout" {
  description = "Timeout in seconds. Hot-path payment functions should stay well under the API timeout."
  type        = number
  default     = 10

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "timeout must be a whole number of seconds between 1 and 900."
  }
}

variable "reserved_concurrent_executions" {
  description = "Concurrency reserved for (and capping) this function. 0 stops all invocations (a kill switch); unreserved (-1) is refused so one function cannot starve the others."
  type        = number
  default     = 10

  validation {
    condition     = var.reserved_concurrent_executions >= 0 && floor(var.reserved_concurrent_executions) == var.reserved_concurrent_executions
    error_message = "reserved_concurrent_executions must be a whole number >= 0; unreserved concurrency (-1) is not allowed."
  }
}

variable "environment_variables" {
  description = "Environment variables for the function (encrypted at rest with kms_key_arn). Never put secrets or card data here; pass a secret's ARN instead."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.environment_variables) : can(regex("^[A-Za-z][A-Za-z0-9_]*$", k)) && !startswith(k, "AWS_") && !startswith(k, "POWERTOOLS_")])
    error_message = "environment variable names must be letters, digits and '_', and must not use the reserved AWS_ prefix or the POWERTOOLS_ prefix (use the powertools variable)."
  }
}

variable "powertools" {
  description = "Powertools for AWS Lambda settings, passed as POWERTOOLS_SERVICE_NAME (defaults to name), POWERTOOLS_LOG_LEVEL (WARNING by default: warnings and errors are always logged, INFO is opt-in, since a function's INFO lines are not the PCI DSS 10.2 audit trail, which CloudTrail, API access logs and the vault's audit log keep) and POWERTOOLS_METRICS_NAMESPACE. log_level also sets logging_config.application_log_level in Lambda's names (WARNING is WARN, CRITICAL is FATAL), so Lambda and Powertools filter at the same level."
  type = object({
    service_name      = optional(string)
    log_level         = optional(string, "WARNING")
    metrics_namespace = optional(string, "Payments")
  })
  default = {}

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], var.powertools.log_level)
    error_message = "powertools.log_level must be DEBUG, INFO, WARNING, ERROR or CRITICAL."
  }

  validation {
    condition     = can(regex("^[A-Za-z0-9_./#:-]{1,255}$", var.powertools.metrics_namespace))
    error_message = "powertools.metrics_namespace must be a valid CloudWatch namespace (1-255 characters, no spaces)."
  }
}

variable "system_log_level" {
  description = "Level of Lambda's own platform logs (log format JSON). WARN by default: the per-invocation start and report records (INFO, 330-450 bytes an invocation, more than a function logs at WARNING) are not written; the Errors metric and its alarm still count every failed invocation. INFO or DEBUG brings them back while debugging."
  type        = string
  default     = "WARN"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARN"], var.system_log_level)
    error_message = "system_log_level must be DEBUG, INFO or WARN."
  }
}

variable "policy_statements" {
  description = <<-EOT
    IAM statements for the function's least-privilege role, in addition to what the module grants
    itself (its log group, X-Ray, its failure queue, the environment key and, with vpc_config, ENI
    management). Wildcard actions are refused: "*" and any "<service>:*"; for kms, dynamodb and s3
    a resource of "*" is refused too (name the key, table or bucket ARNs).
  EOT
  type = list(object({
    sid       = optional(string)
    effect    = optional(string, "Allow")
    actions   = list(string)
    resources = list(string)
    conditions = optional(list(object({
      test     = string
      variable = string
      values   = list(string)
    })), [])
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.policy_statements : contains(["Allow", "Deny"], s.effect) && length(s.actions) > 0 && length(s.resources) > 0])
    error_message = "Each policy statement needs effect Allow or Deny, at least one action and at least one resource."
  }

  validation {
    condition = alltrue(flatten([
      for s in var.policy_statements : [for a in s.actions : !(a == "*" || endswith(a, ":*")) if s.effect == "Allow"]
    ]))
    error_message = "Wildcard actions (\"*\", \"kms:*\", \"dynamodb:*\", \"s3:*\" or any \"<service>:*\") are refused; list the actions the function needs."
  }

  validation {
    condition = alltrue(flatten([
      for s in var.policy_statements : [
        for a in s.actions : !contains(s.resources, "*") if s.effect == "Allow" && contains(["kms", "dynamodb", "s3"], lower(split(":", a)[0]))
      ]
    ]))
    error_message = "kms, dynamodb and s3 actions must name their key, table or bucket ARNs; resource \"*\" is refused for them."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key ARN that encrypts the environment variables and the failure queue (typically the kms module's application key)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>); aliases and AWS-managed keys are refused."
  }
}

variable "log_kms_key_arn" {
  description = "Customer-managed KMS key ARN for the log group (the kms module's logs key, whose policy admits CloudWatch Logs)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "log_retention_in_days" {
  description = "Log retention; PCI DSS 10.5.1 needs at least one year."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be a CloudWatch Logs retention value of at least 365 days (365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "vpc_config" {
  description = "Private subnets and security groups the function runs in. Required; pass null explicitly to run outside a VPC (only for functions that never touch cardholder data)."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  nullable = true

  validation {
    condition     = var.vpc_config == null ? true : length(var.vpc_config.subnet_ids) >= 2 && length(var.vpc_config.security_group_ids) >= 1
    error_message = "vpc_config needs at least two subnets (two AZs) and at least one security group."
  }
}

variable "async_invoke" {
  description = "Asynchronous invocation handling: retries and maximum event age before the event goes to the encrypted on-failure queue."
  type = object({
    maximum_retry_attempts       = optional(number, 2)
    maximum_event_age_in_seconds = optional(number, 3600)
  })
  default = {}

  validation {
    condition     = var.async_invoke.maximum_retry_attempts >= 0 && var.async_invoke.maximum_retry_attempts <= 2
    error_message = "async_invoke.maximum_retry_attempts must be 0, 1 or 2."
  }

  validation {
    condition     = var.async_invoke.maximum_event_age_in_seconds >= 60 && var.async_invoke.maximum_event_age_in_seconds <= 21600
    error_message = "async_invoke.maximum_event_age_in_seconds must be between 60 and 21600."
  }
}

variable "failure_queue_enabled" {
  description = "Keep failed asynchronous invocations in an encrypted SQS on-failure queue (for replay and investigation). Set false for every function that sees card data (a vault function, an API that receives the card): the kept record is the event itself, card number and CVC included, for up to failure_queue_retention_seconds (PCI DSS 3.2.1, 3.3.1); a failed event is then dropped after async_invoke's retries and age. The compliance scan refuses an on-failure or dead-letter destination on a function tagged DataClass = cardholder-data (CKV_PCI_021)."
  type        = bool
  default     = true
  nullable    = false
}

variable "failure_queue_retention_seconds" {
  description = "How long failed asynchronous events are kept in the on-failure queue."
  type        = number
  default     = 1209600

  validation {
    condition     = var.failure_queue_retention_seconds >= 60 && var.failure_queue_retention_seconds <= 1209600
    error_message = "failure_queue_retention_seconds must be between 60 and 1209600 (14 days)."
  }
}

variable "alarm_sns_topic_arn" {
  description = "SNS topic notified by the error and throttle alarms (and on recovery). Null creates the alarms without actions."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_sns_topic_arn == null ? true : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:.+$", var.alarm_sns_topic_arn))
    error_message = "alarm_sns_topic_arn must be an SNS topic ARN."
  }
}

variable "error_alarm_threshold" {
  description = "Errors per 5-minute period that raise the error alarm."
  type        = number
  default     = 1

  validation {
    condition     = var.error_alarm_threshold >= 1
    error_message = "error_alarm_threshold must be at least 1."
  }
}

variable "permissions_boundary_arn" {
  description = "Optional IAM permissions boundary for the function role (recommended where an SCP requires one)."
  type        = string
  default     = null
}

variable "code_signing_config_arn" {
  description = "Optional Lambda code signing configuration ARN (AWS Signer). Deployments that sign their zips should set it."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}
