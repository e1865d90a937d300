variable "account_id" {
  description = "The AWS account this environment lives in; the provider refuses any other."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be a 12-digit AWS account id."
  }
}

variable "region" {
  description = "AWS region of the environment."
  type        = string
}

variable "owner" {
  description = "Owner tag of every resource (a team, not a person)."
  type        = string
}

variable "key_administrator_arns" {
  description = "SSO roles that administer the KMS keys (they cannot use them)."
  type        = list(string)
}

variable "detokenize_allowed_principals" {
  description = "The only roles that may detokenize through the API."
  type        = list(string)
  default     = []
}

variable "lambda_package" {
  description = "Lambda zip built for the Lambda runtime by `make build`."
  type        = string
  default     = "../../build/lambda/functions-aws.zip"
}

variable "alarm_subscriptions" {
  description = "Who receives the security alarms (required here): [{ protocol = \"email\", endpoint = \"...\" }] or an https incident-management endpoint. Confirm an email subscription from the mailbox."
  type = list(object({
    protocol = string
    endpoint = string
  }))
}

variable "az_count" {
  description = "Availability zones the private subnets and endpoints span (2 or 3): prod takes 3."
  type        = number
}

variable "log_retention_days" {
  description = "Retention of every CloudWatch log group, in days (at least 365, PCI DSS 10.5.1)."
  type        = number
}

variable "capacity" {
  description = "The throughput the environment is sized for (modules/platform capacity, README \"Environment profiles\"): requests_per_second at peak, headroom over it (2 when unset) and the account's Lambda concurrent-executions quota (Service Quotas L-B99A9384). The stage's throttle, each function's reserved concurrency and WAF's per-IP limit follow from it; the plan fails when the quota cannot hold the reservations."
  type = object({
    requests_per_second      = number
    headroom                 = optional(number)
    lambda_concurrency_quota = number
  })
}

variable "audit_object_lock" {
  description = "Object Lock of the audit log archive: COMPLIANCE with at least 365 days outside dev; GOVERNANCE with a short retention in dev, so that it can be deleted soon."
  type = object({
    mode           = string
    retention_days = number
  })
}

variable "audit_force_destroy" {
  description = "Let terraform destroy empty the audit buckets (dev only: with a GOVERNANCE lock, whoever destroys needs s3:BypassGovernanceRetention until the short retention ends)."
  type        = bool
  default     = false
}

variable "backup" {
  description = "AWS Backup of the vault and ledger tables (modules/backup): enabled, retention_days of each daily recovery point, and vault_lock_changeable_for_days (a COMPLIANCE vault lock, immutable that many days after the apply; null keeps it GOVERNANCE)."
  type = object({
    enabled                        = bool
    retention_days                 = optional(number)
    vault_lock_changeable_for_days = optional(number)
  })
  default = { enabled = false }
}

variable "slo" {
  description = "The service-level objectives of this environment's SLO alarms and dashboard (platform's slo: availability_percent, latency_p99_ms, approval_rate_min_percent, fraud_block_max_percent, min_requests, min_payments, period_seconds, evaluation_periods); an attribute left out takes payment_workflow's default."
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
  description = "The acquirer this environment's payment functions talk to: \"simulator\" (test cards, no money moves) or \"http\" with acquirer_http (docs/decisions/0010-acquirer-egress.md)."
  type        = string
  default     = "simulator"
  nullable    = false
}

variable "acquirer_http" {
  description = "With acquirer_connector = \"http\": the acquirer API's https base_url and the Secrets Manager secret ARN of its bearer token (payment_workflow validates both)."
  type = object({
    base_url              = string
    credential_secret_arn = string
  })
  default = null
}

variable "acquirer_egress" {
  description = "With acquirer_connector = \"http\": the network path to the acquirer (network's acquirer_egress validates it; docs/decisions/0010-acquirer-egress.md): mode \"privatelink\" with endpoint_service_name and private_dns_name, or \"firewall\" with allowed_domains (and single_nat_gateway to use one AZ). \"none\" (the default) has no way out: the simulator."
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
