variable "name_prefix" {
  description = "Prefix of every resource name (<prefix>-credit-decisions, <prefix>-bnpl-plans, <prefix>-credit-api)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "name_prefix must be 2-31 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "environment" {
  description = "Environment name, passed to the function (PAYMENTS_ENVIRONMENT)."
  type        = string

  validation {
    condition     = contains(["local", "dev", "staging", "prod"], var.environment)
    error_message = "environment must be local, dev, staging or prod."
  }
}

variable "data_kms_key_arn" {
  description = "Customer-managed key (the kms module's application key) for the decision and plan tables, the function's environment and its failure queue."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.data_kms_key_arn))
    error_message = "data_kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>); aliases and AWS-managed keys are refused."
  }
}

variable "logs_kms_key_arn" {
  description = "Customer-managed key for the function's log group (the kms module's logs key)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.logs_kms_key_arn))
    error_message = "logs_kms_key_arn must be a KMS key ARN."
  }
}

variable "lambda_package" {
  description = "Path to the functions zip built by make build (the handler is functions.handlers.credit_api.handler)."
  type        = string
}

variable "lambda_runtime" {
  description = "Python runtime of the function."
  type        = string
  default     = "python3.12"
}

variable "vpc_config" {
  description = "Subnets and security groups of the function. Required; null runs it outside a VPC (it holds applicants' declared finances and dates of birth: personal data, no card data)."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  nullable = true
}

variable "credit_policy" {
  description = <<-EOT
    The credit limits per currency, in the currency's minor units (docs/models/credit.md): the
    smallest and largest plan, the BNPL credit one customer and one merchant may have
    outstanding, and the living-costs buffer an applicant's budget must keep each month after
    every repayment. A currency not listed is not offered (applications in it are declined).
  EOT
  type = map(object({
    min_amount          = number
    max_amount          = number
    customer_limit      = number
    merchant_limit      = number
    living_costs_buffer = number
  }))
  nullable = false

  validation {
    condition     = length(var.credit_policy) > 0 && alltrue([for c in keys(var.credit_policy) : can(regex("^[A-Z]{3}$", c))])
    error_message = "credit_policy needs at least one currency, each an ISO 4217 code (EUR, GBP)."
  }
  validation {
    condition = alltrue([for c, l in var.credit_policy : alltrue([
      for v in [l.min_amount, l.max_amount, l.customer_limit, l.merchant_limit, l.living_costs_buffer] : v >= 0 && floor(v) == v
    ])])
    error_message = "credit_policy amounts must be whole, non-negative minor units (1000 is EUR 10.00)."
  }
  validation {
    condition     = alltrue([for c, l in var.credit_policy : l.min_amount >= 1 && l.min_amount <= l.max_amount])
    error_message = "credit_policy: min_amount must be at least 1 and at most max_amount."
  }
  validation {
    # An affordability check with no buffer approves whoever has a cent left each month.
    condition     = alltrue([for c, l in var.credit_policy : l.living_costs_buffer > 0])
    error_message = "credit_policy: living_costs_buffer must be above 0 (CONC 5.2A / CCD 2023/2225 Art. 18: the repayments must leave room for living costs)."
  }
}

variable "eur_rates" {
  description = "EUR per unit of each non-EUR currency of credit_policy, as decimal strings ({ GBP = \"1.17\" }): the scorecard reads amounts in EUR. A currency without a rate fails closed (declined)."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for c, r in var.eur_rates : can(regex("^[A-Z]{3}$", c)) && can(regex("^[0-9]+(\\.[0-9]+)?$", r)) && tonumber(r) > 0])
    error_message = "eur_rates must map ISO 4217 codes to positive decimal strings (\"1.17\")."
  }
}

variable "reviewer_principals" {
  description = "IAM principal ARNs of the lender's credit reviewers: the only callers of POST /v1/credit/decisions/{id}/reviews (the human review CCD 2023/2225 Art. 18 gives a consumer the right to), recorded as the reviewer. Never a merchant's principal."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for p in var.reviewer_principals : can(regex("^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:.+$", p))])
    error_message = "reviewer_principals must be IAM or STS principal ARNs."
  }
}

variable "api" {
  description = "The credit API function: reserved concurrency, timeout (seconds) and memory (MB)."
  type = object({
    reserved_concurrency = optional(number, 10)
    timeout              = optional(number, 10)
    memory_size          = optional(number, 512)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.api.reserved_concurrency >= 1
    error_message = "api.reserved_concurrency must be at least 1 (0 would stop the API)."
  }
  validation {
    condition     = var.api.timeout >= 3 && var.api.timeout <= 29
    error_message = "api.timeout must be between 3 and 29 seconds (API Gateway answers within 29)."
  }
  validation {
    condition     = var.api.memory_size >= 128 && var.api.memory_size <= 10240
    error_message = "api.memory_size must be between 128 and 10240 MB."
  }
}

variable "log_level" {
  description = "Powertools log level of the function."
  type        = string
  default     = "INFO"
}

variable "log_retention_days" {
  description = "Retention of the function's logs (PCI DSS 10.5.1: at least 365)."
  type        = number
  default     = 365
}

variable "alarm_sns_topic_arn" {
  description = "SNS topic the function's alarms notify; null creates them without actions."
  type        = string
  default     = null
}

variable "deletion_protection" {
  description = "Deletion protection of the decision and plan tables (the decisions are the audit record of every credit decision)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}

variable "bnpl" {
  description = <<-EOT
    BNPL checkout and collections. Null (the default) deploys the pre-qualification API only. Set,
    it adds the bnpl function (the payment workflow's BNPL step, its compensation, and the
    collections run), the credit ledger table and the collections schedule:
    - event_bus: the payment bus the bnpl.* events are published on (name and ARN), and its
      dead-letter queue (dead_letter_queue_arn, optional) for the events its rule to the BNPL
      event record could not deliver;
    - payments_table: the payment workflow's payments table (name and ARN), where a BNPL
      payment is recorded so that GET /v1/payments/{id} answers it (encrypted with
      data_kms_key_arn, as the payment workflow's tables are);
    - acquirer_connector, acquirer_timeout_ms: the connector instalments are charged through,
      as for the payment workflow;
    - merchant_service_charge: the payment workflow's merchant service charge as JSON ("" for
      none): the fee the merchant is paid less at checkout;
    - collections_schedule_expression: when due instalments are charged (null: no schedule;
      `make collect-bnpl` runs them on the emulator);
    - reconcile_schedule_expression: when the BNPL reconciliation checks the BNPL payments
      updated since its last run against their plans and the credit ledger (hourly by
      default; null: no schedule, run it by hand with {"action": "reconcile"});
    - retry_every_days, write_off_after_days: a failed collection retries after this many days,
      and a plan is written off this many days past due;
    - late_fees: per currency (ISO 4217), in its minor units, the fee an instalment takes when
      it first goes late and the most a plan is ever charged in late fees (cap); a currency
      not listed takes none (the default: no late fees unless configured).
  EOT
  type = object({
    event_bus = object({
      name                  = string
      arn                   = string
      dead_letter_queue_arn = optional(string)
    })
    payments_table = object({
      name = string
      arn  = string
    })
    acquirer_connector              = optional(string, "simulator")
    acquirer_timeout_ms             = optional(number, 3000)
    merchant_service_charge         = optional(string, "")
    collections_schedule_expression = optional(string, "cron(0 6 * * ? *)")
    reconcile_schedule_expression   = optional(string, "rate(1 hour)")
    retry_every_days                = optional(number, 3)
    write_off_after_days            = optional(number, 90)
    reserved_concurrency            = optional(number, 10)
    late_fees = optional(map(object({
      amount = number
      cap    = number
    })), {})
  })
  default = null

  validation {
    condition     = var.bnpl == null || (try(var.bnpl.retry_every_days >= 1 && var.bnpl.retry_every_days <= var.bnpl.write_off_after_days, false))
    error_message = "bnpl.retry_every_days must be from 1 to bnpl.write_off_after_days."
  }
  validation {
    condition     = var.bnpl == null || try(var.bnpl.collections_schedule_expression == null || can(regex("^(rate|cron)\\(.+\\)$", var.bnpl.collections_schedule_expression)), false)
    error_message = "bnpl.collections_schedule_expression must be rate(...) or cron(...), or null."
  }
  validation {
    condition     = var.bnpl == null || try(var.bnpl.reconcile_schedule_expression == null || can(regex("^(rate|cron)\\(.+\\)$", var.bnpl.reconcile_schedule_expression)), false)
    error_message = "bnpl.reconcile_schedule_expression must be rate(...) or cron(...), or null."
  }
  validation {
    condition = var.bnpl == null || try(alltrue([
      for currency, fee in var.bnpl.late_fees :
      can(regex("^[A-Z]{3}$", currency)) && floor(fee.amount) == fee.amount && floor(fee.cap) == fee.cap && fee.amount >= 0 && fee.amount <= fee.cap
    ]), false)
    error_message = "bnpl.late_fees: each key an ISO 4217 code (EUR), each fee whole minor units with 0 <= amount <= cap."
  }
  validation {
    condition     = var.bnpl == null || try(var.bnpl.reserved_concurrency >= 1, false)
    error_message = "bnpl.reserved_concurrency must be at least 1 (0 would stop checkout and collections)."
  }
}

variable "api_gateway" {
  description = "The REST API that serves the credit routes (modules/payment_workflow: its api_execution_arn and credit_routes outputs): API Gateway may invoke the credit API function for each route's method and path only. Null grants nothing (the module's own example)."
  type = object({
    execution_arn = string
    routes = map(object({
      method = string
      path   = string
    }))
  })
  default = null
}
