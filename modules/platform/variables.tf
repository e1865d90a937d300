variable "name_prefix" {
  description = "Prefix for every resource name, e.g. \"payments-dev\". Lower case, digits and dashes."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,22}$", var.name_prefix))
    error_message = "name_prefix must be 3-23 characters of lower case letters, digits and dashes, starting with a letter (bucket names append to it)."
  }
}

variable "environment" {
  description = "Environment name the functions report (local, dev, staging, prod)."
  type        = string

  validation {
    condition     = contains(["local", "dev", "staging", "prod"], var.environment)
    error_message = "environment must be local, dev, staging or prod."
  }
}

variable "key_administrator_arns" {
  description = "IAM role ARNs that administer the KMS keys (they cannot use them)."
  type        = list(string)

  validation {
    condition     = length(var.key_administrator_arns) > 0
    error_message = "Name at least one key administrator role: a key nobody can administer is a liability."
  }
}

variable "lambda_package" {
  description = "Path to the Lambda deployment zip built by `make build` (functions-aws.zip for AWS, functions-local.zip for the emulator)."
  type        = string

  validation {
    condition     = endswith(var.lambda_package, ".zip")
    error_message = "lambda_package must be the path of a .zip file."
  }
}

variable "lambda_runtime" {
  description = "Lambda runtime the package was built for."
  type        = string
  default     = "python3.12"

  validation {
    condition     = contains(["python3.11", "python3.12", "python3.13"], var.lambda_runtime)
    error_message = "lambda_runtime must be python3.11, python3.12 or python3.13."
  }
}

variable "vpc_cidr_block" {
  description = "CIDR block of the platform's VPC."
  type        = string
  default     = "10.40.0.0/16"
}

variable "az_count" {
  description = "Availability zones the private subnets span (2 or 3)."
  type        = number
  default     = 2

  validation {
    condition     = contains([2, 3], var.az_count)
    error_message = "az_count must be 2 or 3."
  }
}

variable "cryptoperiod_days" {
  description = "Cryptoperiod of the keys: automatic rotation happens at least this often (PCI DSS 3.6.1, 3.7.4)."
  type        = number
  default     = 365

  validation {
    condition     = var.cryptoperiod_days >= 90 && var.cryptoperiod_days <= 365
    error_message = "cryptoperiod_days must be between 90 and 365."
  }
}

variable "log_retention_days" {
  description = "Retention of every log group; PCI DSS 10.5.1 asks for at least a year."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch retention value of at least 365 days."
  }
}

variable "deletion_protection" {
  description = "Protect tables holding payment data from deletion. Turn off only for throwaway environments."
  type        = bool
  default     = true
}

variable "audit_force_destroy" {
  description = "Let `terraform destroy` empty the audit buckets. Only for throwaway environments: Object Lock still protects locked versions."
  type        = bool
  default     = false
}

variable "alarm_subscriptions" {
  description = "Who receives the security alarms (PCI DSS 10.2 events, the functions' failure alarms), e.g. [{ protocol = \"email\", endpoint = \"secops@example.com\" }] or an https incident-management endpoint. Required outside dev and local: an alarm no one receives evidences nothing (PCI DSS 10.4.1, 10.7). An email subscription must be confirmed from the mailbox before it delivers."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default  = []
  nullable = false

  validation {
    condition     = contains(["local", "dev"], var.environment) || length(var.alarm_subscriptions) > 0
    error_message = "alarm_subscriptions must name at least one subscriber outside dev and local (staging and prod): set it in the environment's terraform.tfvars, e.g. [{ protocol = \"email\", endpoint = \"secops@example.com\" }]."
  }
}

variable "workflow_log_level" {
  description = "Step Functions log level of the payment workflow: ERROR (default) records every failed task and execution; ALL adds tens of KB per payment and nothing PCI DSS 10.2 needs. Execution data is never logged."
  type        = string
  default     = "ERROR"
  nullable    = false

  validation {
    condition     = contains(["ALL", "ERROR"], var.workflow_log_level)
    error_message = "workflow_log_level must be ERROR or ALL (FATAL and OFF drop failed tasks)."
  }
}

variable "log_level" {
  description = "Powertools log level of the payment functions. WARNING by default (INFO adds nothing PCI DSS 10.2 needs; see docs/decisions/0005-log-levels-vs-pci-dss-10-2.md)."
  type        = string
  default     = "WARNING"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "tags" {
  description = "Tags added to every resource (environments also set provider default_tags)."
  type        = map(string)
  default     = {}
}

variable "detokenize_allowed_principals" {
  description = "IAM principals (role or user ARNs) allowed to detokenize through the API. Empty means nobody."
  type        = list(string)
  default     = []
}

variable "capacity" {
  description = <<-EOT
    The throughput this environment is sized for (capacity.tf, README "Environment profiles"):
    requests_per_second, the API requests per second it must serve at peak; headroom, the
    factor over it (bursts, a slower tail); p99_seconds, each hot-path function's p99 duration
    (payments_api's is the whole synchronous payment; replace the stated defaults with the
    measured Duration p99 once live); bnpl_share, the share of payments that are BNPL; and
    lambda_concurrency_quota, the account's Lambda concurrent-executions quota (1,000 by default,
    often 10 or 50 on a new account: Service Quotas L-B99A9384). Each function reserves
    ceil(requests_per_second x share x p99 x headroom), at least 1; the plan fails when the
    total leaves Lambda fewer than 100 unreserved.
  EOT
  type = object({
    requests_per_second = number
    headroom            = optional(number, 2)
    bnpl_share          = optional(number, 0.2)
    p99_seconds = optional(object({
      merchant_authorizer = optional(number, 0.1)
      payments_api        = optional(number, 1.5)
      tokenize            = optional(number, 0.2)
      assess_risk         = optional(number, 0.2)
      process_payment     = optional(number, 1)
      bnpl                = optional(number, 1.5)
    }), {})
    lambda_concurrency_quota = optional(number, 1000)
  })
  default  = { requests_per_second = 10 }
  nullable = false

  validation {
    condition     = var.capacity.requests_per_second > 0 && var.capacity.requests_per_second <= 5000
    error_message = "capacity.requests_per_second must be above 0 and at most 5000 (the stage's throttle is derived from it; API Gateway's account default is 10,000 requests/s across all APIs)."
  }
  validation {
    condition     = var.capacity.headroom >= 1 && var.capacity.headroom <= 10
    error_message = "capacity.headroom must be between 1 (no margin) and 10."
  }
  validation {
    condition     = var.capacity.bnpl_share >= 0 && var.capacity.bnpl_share <= 1
    error_message = "capacity.bnpl_share must be a fraction between 0 and 1."
  }
  validation {
    # API Gateway gives up on an integration after 29 s.
    condition     = alltrue([for p99 in values(var.capacity.p99_seconds) : p99 > 0 && p99 <= 29])
    error_message = "capacity.p99_seconds values must be above 0 and at most 29 seconds."
  }
  validation {
    condition     = var.capacity.lambda_concurrency_quota >= 10 && floor(var.capacity.lambda_concurrency_quota) == var.capacity.lambda_concurrency_quota
    error_message = "capacity.lambda_concurrency_quota must be the account's whole quota of concurrent executions (10 or more)."
  }
}

variable "api_rate_limit_per_second" {
  description = "Steady-state request rate the API stage accepts across all callers (burst twice this). Null (the default) derives it from capacity: ceil(requests_per_second x headroom)."
  type        = number
  default     = null

  validation {
    condition     = var.api_rate_limit_per_second == null || try(var.api_rate_limit_per_second >= 1 && var.api_rate_limit_per_second <= 10000, false)
    error_message = "api_rate_limit_per_second must be between 1 and 10000, or null to derive it from capacity."
  }
}

variable "waf_rate_limit_per_5_minutes" {
  description = "Requests one IP address may make in five minutes before WAF blocks it. Null (the default) derives it from the stage's rate limit: 300 seconds of it, so one address is blocked only beyond what the whole stage admits."
  type        = number
  default     = null

  validation {
    condition     = var.waf_rate_limit_per_5_minutes == null || try(var.waf_rate_limit_per_5_minutes >= 100, false)
    error_message = "waf_rate_limit_per_5_minutes must be at least 100 (WAF's minimum), or null to derive it from capacity."
  }
}

variable "audit_object_lock" {
  description = "Object Lock of the audit log archive (modules/audit): mode COMPLIANCE (the default; nobody can delete a log before retention_days, at least 365) or GOVERNANCE (dev: a principal with s3:BypassGovernanceRetention can, and a short retention_days lets the environment be deleted soon). The logs are kept 12 months either way (PCI DSS 10.5.1)."
  type = object({
    mode           = optional(string, "COMPLIANCE")
    retention_days = optional(number, 365)
  })
  default  = {}
  nullable = false
}

variable "backup" {
  description = "AWS Backup of the vault and ledger tables (modules/backup): enabled (off by default; prod turns it on), the schedule, how long recovery points are kept (retention_days) and the vault lock (vault_lock_changeable_for_days: a COMPLIANCE lock becomes immutable that many days after the apply; null keeps a GOVERNANCE lock). modules/backup validates each value."
  type = object({
    enabled                        = optional(bool, false)
    schedule_expression            = optional(string)
    retention_days                 = optional(number)
    vault_lock_changeable_for_days = optional(number)
  })
  default  = {}
  nullable = false
}

# Payment workflow settings. Null keeps the payment_workflow module's default (see its README).

variable "merchant_authorizer_result_ttl_seconds" {
  description = "How long API Gateway caches the merchant authorizer's answer per API key (0-3600 s): the longest a revoked or expired key keeps working, against one authorizer invocation and one registry read per cache miss (docs/decisions/0008)."
  type        = number
  default     = 300
  nullable    = false
}

variable "max_amount_eur" {
  description = "Largest payment POST /v1/payments accepts, in EUR, converted per currency with eur_rates (payment_workflow's max_amount_eur). Null keeps the module default (10000)."
  type        = number
  default     = null
}

variable "max_amount_minor_overrides" {
  description = "Per-currency caps in minor units replacing the converted EUR cap (payment_workflow's max_amount_minor_overrides). Null keeps none."
  type        = map(number)
  default     = null
}

variable "eur_rates" {
  description = "EUR per one unit of each currency for the fraud and SCA limits, e.g. { EUR = 1, USD = 0.92 }. Null keeps the module's rates."
  type        = map(number)
  default     = null
}

variable "fraud_rules" {
  description = "Overrides of the fraud scorer's thresholds and weights (keys as in the payment_workflow README, e.g. review_threshold, weights.velocity_card). Null or {} keeps the defaults."
  type        = map(number)
  default     = null
}

variable "ip_country_ranges" {
  description = "CIDR => ISO 3166 alpha-2 country for the fraud rules (GeoIP). Null or {} uses the documentation ranges in the local environment only, and no GeoIP data elsewhere."
  type        = map(string)
  default     = null
}

variable "issuer_country_prefixes" {
  description = "BIN prefix => issuer ISO 3166 alpha-2 country for the fraud rules and the SCA scope. Null or {} uses the test-card prefixes in the local environment only, and no BIN data elsewhere."
  type        = map(string)
  default     = null
}

variable "sca_tra_fraud_rate_percent" {
  description = "The PSP's measured fraud rate for remote card payments (PSD2 RTS Art. 19), percent as a decimal string (\"0.015\"), above 0 and at most 0.13; it picks the TRA band. Null (the default) offers no TRA exemption."
  type        = string
  default     = null
}

variable "acquirer_timeout_ms" {
  description = "Timeout of one acquirer call in milliseconds (100-29000). Null keeps the module default (3000)."
  type        = number
  default     = null
}

variable "allow_simulated_card_network_in_prod" {
  description = "DANGER: let an environment named prod run the acquirer simulator and the simulated 3-D Secure server (the only ones so far), which approve test cards, move no money and authenticate anyone with 123456. prod refuses them otherwise. Only for a prod-shaped rehearsal that takes no real payments."
  type        = bool
  default     = false
  nullable    = false
}

variable "ledger_shards" {
  description = "Balance shards per ledger account (1-64). Null keeps the module default (8)."
  type        = number
  default     = null
}

variable "authorization_validity_days" {
  description = "Days an uncaptured authorization is kept before the reconciliation cancels it (1-30; card schemes' authorization validity, Stripe's 7 days). Null keeps the module default (7)."
  type        = number
  default     = null
}

variable "reconcile_schedule_expression" {
  description = "Schedule of the reconciliation function (rate(...) or cron(...)); null switches the schedule off."
  type        = string
  default     = "rate(1 hour)"
}

variable "reconcile_repair" {
  description = "Whether the scheduled reconciliation applies its safe repairs (posts an entry the payment record proves, republishes a missing event, cancels stale holds, compensates stuck payments, settles lost acquirer answers) or only reports and alarms. Off by default: a person reads the report and repairs by hand ({\"repair\": true}); turn it on only where unattended repair is wanted. Passed to payment_workflow."
  type        = bool
  default     = false
  nullable    = false
}

variable "settlement_schedule_expression" {
  description = "Schedule of the settle function, which books the acquirer's settlement batches and pays merchants their settled funds (rate(...) or cron(...)); null switches the schedule off."
  type        = string
  default     = "cron(30 6 * * ? *)"
}

variable "merchant_service_charge" {
  description = "The merchant service charge per currency (rate in basis points plus a fixed amount in major units), with per-merchant overrides, booked inside each capture's journal entry; see payment_workflow, which validates it. Empty charges nothing."
  type = object({
    default = optional(map(object({
      bps   = number
      fixed = optional(string, "0")
    })), {})
    merchants = optional(map(map(object({
      bps   = number
      fixed = optional(string, "0")
    }))), {})
  })
  default  = {}
  nullable = false
}

variable "fraud_model_mode" {
  description = "How the trained fraud model takes part in the assess step: off, shadow (scored and recorded with the payment, not deciding; the default until its decisions have been compared on live traffic) or strictest (the stricter of rules and model decides)."
  type        = string
  default     = "shadow"
  nullable    = false

  validation {
    condition     = contains(["off", "shadow", "strictest"], var.fraud_model_mode)
    error_message = "fraud_model_mode must be off, shadow or strictest."
  }
}

variable "fraud_alerting" {
  description = "Thresholds of the fraud stream's alerts and the block's duration (modules/fraud_stream variable alerting: cards_per_device_1h, cards_per_ip_1h, attempts_per_card_10m, cards_per_bin_10m, model_block_score, block_ttl_seconds); unset keys keep the module's defaults."
  type        = map(number)
  default     = {}
  nullable    = false
}

variable "fraud_stream_consumer" {
  description = "The fraud stream consumer's event source mapping (modules/fraud_stream variable consumer, which validates each key): batch_size, records per invocation (whole, 1 to 10000; 100 when unset): larger batches cost fewer invocations and GB-seconds per event, smaller ones let an alert wait less behind the records before it; maximum_batching_window_in_seconds (0 to 300; 1 when unset)."
  type = object({
    batch_size                         = optional(number)
    maximum_batching_window_in_seconds = optional(number)
  })
  default  = {}
  nullable = false
}

variable "security_baseline" {
  description = "Per service of modules/security_baseline (guardduty, security_hub, config, inspector, access_analyzer), its settings; unset keys keep the module's defaults (every service enabled). enabled = false is only for an account that already has the service (for example from the organisation's delegated administrator), and the compliance scan reports it. modules/security_baseline/variables.tf describes and validates each key."
  type = object({
    guardduty = optional(object({
      enabled                      = optional(bool)
      s3_protection                = optional(bool)
      lambda_protection            = optional(bool)
      finding_publishing_frequency = optional(string)
    }), {})
    security_hub = optional(object({
      enabled                     = optional(bool)
      pci_dss                     = optional(bool)
      foundational_best_practices = optional(bool)
    }), {})
    config = optional(object({
      enabled                 = optional(bool)
      managed_rules           = optional(bool)
      snapshot_frequency      = optional(string)
      delivery_retention_days = optional(number)
    }), {})
    inspector = optional(object({
      enabled     = optional(bool)
      lambda_code = optional(bool)
    }), {})
    access_analyzer = optional(object({
      enabled = optional(bool)
    }), {})
  })
  default  = {}
  nullable = false
}

variable "data_lake" {
  description = "The payment data lake (modules/data_lake, which validates each value): Firehose buffering (size_mb 64-128, interval_s 60-900), retention in days per kind of object (payment_events_days, which the fraud alerts follow, errors_days, query_results_days, access_logs_days, transition_days), the Athena per-query scan limit in bytes, and force_destroy, which lets terraform destroy empty the lake buckets (throwaway environments only). Unset values keep the module's defaults."
  type = object({
    buffering = optional(object({
      size_mb    = optional(number)
      interval_s = optional(number)
    }), {})
    retention = optional(object({
      payment_events_days = optional(number)
      errors_days         = optional(number)
      query_results_days  = optional(number)
      access_logs_days    = optional(number)
      transition_days     = optional(number)
    }), {})
    athena_bytes_scanned_cutoff = optional(number)
    force_destroy               = optional(bool, false)
  })
  default  = {}
  nullable = false
}

variable "credit_policy" {
  description = "BNPL credit limits per currency in minor units (modules/credit_decisioning's credit_policy): min_amount, max_amount, customer_limit, merchant_limit, living_costs_buffer. A currency not listed is not offered."
  type = map(object({
    min_amount          = number
    max_amount          = number
    customer_limit      = number
    merchant_limit      = number
    living_costs_buffer = number
  }))
  default = {
    EUR = { min_amount = 3000, max_amount = 200000, customer_limit = 300000, merchant_limit = 50000000, living_costs_buffer = 80000 }
    GBP = { min_amount = 3000, max_amount = 170000, customer_limit = 250000, merchant_limit = 40000000, living_costs_buffer = 70000 }
  }
  nullable = false
}

variable "bnpl_collections_schedule_expression" {
  description = "When the due BNPL instalments are charged (rate(...) or cron(...)); null switches the schedule off (make collect-bnpl runs them)."
  type        = string
  default     = "cron(0 6 * * ? *)"
}

variable "bnpl_late_fees" {
  description = "BNPL late fees per currency (ISO 4217), in its minor units: the fee an instalment takes when it first goes late and the most a plan is ever charged in late fees (cap). A currency not listed takes none. The default follows the UK's largest lenders' published terms (5.00 per missed instalment, at most two per purchase)."
  type = map(object({
    amount = number
    cap    = number
  }))
  default = {
    EUR = { amount = 500, cap = 1000 }
    GBP = { amount = 500, cap = 1000 }
  }

  validation {
    condition = alltrue([
      for currency, fee in var.bnpl_late_fees :
      can(regex("^[A-Z]{3}$", currency)) && floor(fee.amount) == fee.amount && floor(fee.cap) == fee.cap && fee.amount >= 0 && fee.amount <= fee.cap
    ])
    error_message = "bnpl_late_fees: each key an ISO 4217 code (EUR), each fee whole minor units with 0 <= amount <= cap."
  }
}

variable "request_body_validation" {
  description = "payment_workflow's request_body_validation (ADR 0011): \"function\" (the default) lets the functions refuse a bad body, naming the field in error.param; \"gateway\" has API Gateway refuse it against its model first (no invocation, but a 400 that cannot name the field)."
  type        = string
  default     = "function"

  validation {
    condition     = contains(["function", "gateway"], var.request_body_validation)
    error_message = "request_body_validation must be \"function\" or \"gateway\"."
  }
}

variable "api_domain_name" {
  description = "Custom domain of the Payment API (payment_workflow's api_domain_name): served under the TLS_1_2 security policy with the default execute-api endpoint disabled. Null keeps the default endpoint, whose TLS policy cannot be chosen (TLS 1.0 and up; the README). Set together with api_certificate_arn."
  type        = string
  default     = null

  validation {
    condition     = (var.api_domain_name == null) == (var.api_certificate_arn == null)
    error_message = "api_domain_name and api_certificate_arn go together: set both or neither."
  }
}

variable "api_certificate_arn" {
  description = "ACM certificate of api_domain_name in the platform's Region (payment_workflow's api_certificate_arn). Null with api_domain_name null."
  type        = string
  default     = null

  validation {
    condition     = var.api_certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+$", var.api_certificate_arn))
    error_message = "api_certificate_arn must be an ACM certificate ARN (arn:<partition>:acm:<region>:<account>:certificate/<id>)."
  }
}

variable "webhooks" {
  description = "Webhooks (modules/webhooks, docs/webhooks.md): endpoint_policy (where deliveries may go: https to public hosts by default; allow_http and allow_private_addresses are the local emulator's opt-outs, refused in any other environment), retry (exponential backoff with jitter from base_delay_seconds, at most max_delay_seconds apart, failed after give_up_after_hours) and how long the delivery log is kept."
  type = object({
    endpoint_policy = optional(object({
      allow_http              = optional(bool, false)
      allow_private_addresses = optional(bool, false)
    }), {})
    retry = optional(object({
      base_delay_seconds  = optional(number, 30)
      max_delay_seconds   = optional(number, 3600)
      give_up_after_hours = optional(number, 24)
    }), {})
    delivery_log_retention_days = optional(number, 30)
  })
  default  = {}
  nullable = false
}

variable "merchant_usage_plans" {
  description = "Per-merchant rate limits by tier (payment_workflow's merchant_usage_plans): tier => { rate_limit per second, burst_limit, optional quota { limit, period DAY|WEEK|MONTH } }. Onboarding puts each merchant's API key on its tier's plan (standard by default); a merchant over its plan gets 429 and no other merchant is slowed."
  type = map(object({
    rate_limit  = number
    burst_limit = number
    quota = optional(object({
      limit  = number
      period = string
    }))
  }))
  default = {
    standard = { rate_limit = 50, burst_limit = 100 }
  }
  nullable = false

  validation {
    condition     = contains(keys(var.merchant_usage_plans), "standard")
    error_message = "merchant_usage_plans must define the tier standard (where merchants onboarded without a tier go)."
  }
}

variable "slo" {
  description = "Service-level objectives of the payment SLO alarms and dashboard, per environment (payment_workflow's slo, which validates them): availability_percent of API requests not answered 5xx, latency_p99_ms, approval_rate_min_percent, fraud_block_max_percent, min_requests and min_payments (the volume below which a ratio is not judged), period_seconds and evaluation_periods. An attribute left out takes payment_workflow's default (99.9%, 3000 ms, 60%, 5%, 50, 20, 300 s, 3)."
  type = object({
    availability_percent      = optional(number)
    latency_p99_ms            = optional(number)
    approval_rate_min_percent = optional(number)
    fraud_block_max_percent   = optional(number)
    min_requests              = optional(number)
    min_payments              = optional(number)
    period_seconds            = optional(number)
    evaluation_periods        = optional(number)
  })
  default  = {}
  nullable = false
}

variable "acquirer_connector" {
  description = "The acquirer the payment functions talk to (payment_workflow's acquirer_connector, which validates it): \"simulator\" (test cards, no money moves) or \"http\" with acquirer_http. prod refuses the simulator unless allow_simulated_card_network_in_prod."
  type        = string
  default     = "simulator"
  nullable    = false
}

variable "acquirer_http" {
  description = "With acquirer_connector = \"http\": the acquirer API's https base_url and the Secrets Manager secret ARN of its bearer token (payment_workflow's acquirer_http, which validates them). The network path to it is acquirer_egress."
  type = object({
    base_url              = string
    credential_secret_arn = string
  })
  default = null
}

variable "acquirer_egress" {
  description = "The network path from the functions that call the acquirer to it (network's acquirer_egress, which validates it; docs/decisions/0010-acquirer-egress.md): mode \"none\" (the default, nothing leaves the VPC: the simulator), \"privatelink\" (endpoint_service_name, private_dns_name) or \"firewall\" (allowed_domains, allow_wildcard_domains, single_nat_gateway). With acquirer_connector = \"http\", process_payment, reconcile and settle run in the tier it creates; http with mode \"none\" is refused."
  type = object({
    mode                   = optional(string, "none")
    endpoint_service_name  = optional(string)
    private_dns_name       = optional(string)
    allowed_domains        = optional(list(string), [])
    allow_wildcard_domains = optional(bool, false)
    single_nat_gateway     = optional(bool, false)
  })
  default  = {}
  nullable = false
}
