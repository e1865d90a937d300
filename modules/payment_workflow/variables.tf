variable "name_prefix" {
  description = "Prefix of every name: tables (<prefix>-payments, -idempotency, -ledger), functions (<prefix>-payments-api, ...), the state machine, the bus, the API. 3-38 lower-case letters, digits and dashes (the longest function name, <prefix>-process-payment, must stay within 55 characters)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,36}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-38 lower-case letters, digits or '-', starting with a letter and not ending with '-'."
  }
}

variable "environment" {
  description = "Environment name the functions report in PAYMENTS_ENVIRONMENT (local, dev, staging, prod)."
  type        = string

  validation {
    condition     = contains(["local", "dev", "staging", "prod"], var.environment)
    error_message = "environment must be local, dev, staging or prod."
  }
}

variable "lambda_package" {
  description = "Path to the functions zip built outside Terraform by `make build` (build/lambda/functions-aws.zip for AWS, functions-local.zip for the emulator). Terraform only hashes it."
  type        = string

  validation {
    condition     = fileexists(var.lambda_package)
    error_message = "lambda_package must point at an existing file (run `make build` first)."
  }
}

variable "lambda_runtime" {
  description = "Lambda runtime the package was built for (python3.11 on the local emulator)."
  type        = string
  default     = "python3.12"
  nullable    = false

  validation {
    condition     = contains(["python3.11", "python3.12", "python3.13"], var.lambda_runtime)
    error_message = "lambda_runtime must be python3.11, python3.12 or python3.13."
  }
}

variable "log_level" {
  description = "Powertools log level of the functions. WARNING by default: their INFO lines (a payment created, scored, posted) add nothing PCI DSS 10.2 asks for, which the API access log, CloudTrail and the vault's audit log record, and they were most of a payment's log bytes. Set INFO or DEBUG to investigate."
  type        = string
  default     = "WARNING"
  nullable    = false

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "workflow_log_level" {
  description = "Step Functions log level of the payment workflow. ERROR (the default) logs every failed task and execution, which is what an investigation needs; ALL adds about 60 events per payment (tens of KB) and nothing PCI DSS 10.2 requires. Execution data is never included, whatever the level (PCI DSS 3.3.1). FATAL and OFF are refused: they lose failed tasks."
  type        = string
  default     = "ERROR"
  nullable    = false

  validation {
    condition     = contains(["ALL", "ERROR"], var.workflow_log_level)
    error_message = "workflow_log_level must be ERROR or ALL (FATAL and OFF drop failed tasks)."
  }
}

variable "log_retention_days" {
  description = "Retention of every log group of the module (functions, workflow, API access, payment events). PCI DSS 10.5.1 asks for at least a year."
  type        = number
  default     = 365
  nullable    = false

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention value of at least 365 days (365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "tags" {
  description = "Tags for every resource. Tables always carry DataClass = payment-metadata; pass the cardholder-data tags of the CDE here (the functions see card numbers)."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "data_kms_key_arn" {
  description = "Customer-managed KMS key ARN for the application data (the kms module's application key): the three tables, the state machine, the event bus, the functions' environments and failure queues."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.data_kms_key_arn))
    error_message = "data_kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>); aliases and AWS-managed keys are refused."
  }
}

variable "logs_kms_key_arn" {
  description = "Customer-managed KMS key ARN for every log group (the kms module's logs key, whose policy admits CloudWatch Logs)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.logs_kms_key_arn))
    error_message = "logs_kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "vpc_config" {
  description = "Private (CDE) subnets and security groups of every function: payments_api receives card numbers. Required; there is no opt-out."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })

  validation {
    condition     = length(var.vpc_config.subnet_ids) >= 2 && length(var.vpc_config.security_group_ids) >= 1
    error_message = "vpc_config needs at least two subnets (two AZs) and at least one security group."
  }
}

variable "acquirer_vpc_config" {
  description = "With acquirer_connector = \"http\": the subnets and security group from which the functions that call the acquirer (process_payment, reconcile, settle) reach it, the acquirer tier of modules/network (acquirer_egress: PrivateLink, or a firewall with a domain allow-list; docs/decisions/0010-acquirer-egress.md). The data subnets of vpc_config have no route out, so http needs it; ignored with the simulator, which needs no network."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  default = null

  validation {
    condition     = var.acquirer_vpc_config == null || try(length(var.acquirer_vpc_config.subnet_ids) >= 1 && length(var.acquirer_vpc_config.security_group_ids) >= 1, false)
    error_message = "acquirer_vpc_config needs at least one subnet and one security group."
  }
  validation {
    condition     = var.acquirer_connector != "http" || var.acquirer_vpc_config != null
    error_message = "acquirer_connector = \"http\" needs acquirer_vpc_config: the data subnets have no route to any acquirer. Give the acquirer tier of modules/network (acquirer_egress)."
  }
}

variable "alarm_sns_topic_arn" {
  description = "SNS topic notified by the functions' error and throttle alarms. Null creates the alarms without actions."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_sns_topic_arn == null ? true : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:.+$", var.alarm_sns_topic_arn))
    error_message = "alarm_sns_topic_arn must be an SNS topic ARN."
  }
}

variable "deletion_protection" {
  description = "Deletion protection of the payments, idempotency and ledger tables. Turn it off only for throwaway environments (the local emulator)."
  type        = bool
  default     = true
  nullable    = false
}

variable "tokenize_function_arn" {
  description = "ARN of the vault's tokenize function (tokenization_vault output tokenize_function_arn): the workflow's tokenize step."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+$", var.tokenize_function_arn))
    error_message = "tokenize_function_arn must be an unqualified Lambda function ARN."
  }
}

variable "tokenize_function_name" {
  description = "Name of the tokenize function, for its API Gateway permission (POST /v1/tokens)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.tokenize_function_name))
    error_message = "tokenize_function_name must be a Lambda function name."
  }
}

variable "tokenize_invoke_arn" {
  description = "Invoke ARN of the tokenize function, for the POST /v1/tokens integration."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:apigateway:[a-z0-9-]+:lambda:path/.+/invocations$", var.tokenize_invoke_arn))
    error_message = "tokenize_invoke_arn must be a Lambda invoke ARN (arn:<partition>:apigateway:<region>:lambda:path/.../invocations)."
  }
}

variable "detokenize_function_name" {
  description = "Name of the detokenize function, for its API Gateway permission (POST /v1/tokens/{token}/detokenize)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.detokenize_function_name))
    error_message = "detokenize_function_name must be a Lambda function name."
  }
}

variable "detokenize_invoke_arn" {
  description = "Invoke ARN of the detokenize function, for the POST /v1/tokens/{token}/detokenize integration."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:apigateway:[a-z0-9-]+:lambda:path/.+/invocations$", var.detokenize_invoke_arn))
    error_message = "detokenize_invoke_arn must be a Lambda invoke ARN (arn:<partition>:apigateway:<region>:lambda:path/.../invocations)."
  }
}

variable "merchant_authorizer" {
  description = <<-EOT
    The merchant authorizer (modules/merchant_registry) in front of every merchant route: the
    payment routes, POST /v1/tokens and the credit routes but the review. invoke_arn is the
    authorizer function's invoke ARN; result_ttl_seconds is how long API Gateway caches its
    answer per Authorization header (0-3600; 300 by default): the longest a revoked key may keep
    working, against one invocation and one registry read per miss (docs/decisions/0008).
    Detokenize and the credit reviews stay signed with IAM (the platform's own roles).
  EOT
  type = object({
    invoke_arn         = string
    result_ttl_seconds = optional(number, 300)
  })
  nullable = false

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:apigateway:[a-z0-9-]+:lambda:path/.+/invocations$", var.merchant_authorizer.invoke_arn))
    error_message = "merchant_authorizer.invoke_arn must be a Lambda invoke ARN (arn:<partition>:apigateway:<region>:lambda:path/.../invocations)."
  }
  validation {
    condition     = var.merchant_authorizer.result_ttl_seconds >= 0 && var.merchant_authorizer.result_ttl_seconds <= 3600 && floor(var.merchant_authorizer.result_ttl_seconds) == var.merchant_authorizer.result_ttl_seconds
    error_message = "merchant_authorizer.result_ttl_seconds must be a whole number of seconds from 0 (no caching) to 3600 (API Gateway's maximum)."
  }
}

variable "max_amount_eur" {
  description = "Largest payment POST /v1/payments accepts, in EUR (MAX_AMOUNT_EUR), converted per currency with eur_rates and rounded down: one number of minor units would mean EUR 1,000,000 and IDR 1,000,000 (about EUR 58) alike. A currency with neither a rate nor an override is refused (docs/amount-limits.md)."
  type        = number
  default     = 10000
  nullable    = false

  validation {
    condition     = var.max_amount_eur > 0 && floor(var.max_amount_eur * 100) == var.max_amount_eur * 100
    error_message = "max_amount_eur must be above 0 with at most two decimals."
  }
}

variable "max_amount_minor_overrides" {
  description = "Per-currency caps in minor units (MAX_AMOUNT_MINOR_OVERRIDES) that replace the converted EUR cap, e.g. { JPY = 2000000 }; an override also admits a currency that has no rate."
  type        = map(number)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for c, v in var.max_amount_minor_overrides : can(regex("^[A-Z]{3}$", c)) && v > 0 && floor(v) == v])
    error_message = "max_amount_minor_overrides keys must be ISO 4217 codes (upper case) and values whole numbers above 0."
  }
}

variable "eur_rates" {
  description = "EUR per one unit of each currency (EUR_RATES), for the fraud amount rules and the SCA exemption limits, which are set in EUR. A currency without a rate skips the EUR-based rules. EUR must be 1."
  type        = map(number)
  default = {
    EUR = 1
    USD = 0.92
    GBP = 1.17
    CHF = 1.05
    SEK = 0.087
    PLN = 0.23
    JPY = 0.0061
  }
  nullable = false

  validation {
    condition     = alltrue([for code, rate in var.eur_rates : can(regex("^[A-Z]{3}$", code)) && rate > 0])
    error_message = "eur_rates keys must be ISO 4217 codes (three upper-case letters) and every rate must be above 0."
  }

  validation {
    condition     = lookup(var.eur_rates, "EUR", 1) == 1
    error_message = "The rate of EUR must be 1."
  }
}

variable "sca_tra_fraud_rate_percent" {
  description = <<-EOT
    The payment service provider's fraud rate for remote card payments, in percent, as a decimal
    string ("0.015" is 0.015 %) (SCA_TRA_FRAUD_RATE_PERCENT). It must be the rate computed per
    PSD2 RTS (Commission Delegated Regulation (EU) 2018/389) Art. 19: unauthorised and fraudulent
    remote card value over all remote card value, rolling 90 days. It picks the band of the
    RTS Annex in which the transaction-risk-analysis exemption (Art. 18) is offered: up to
    EUR 100 at 0.13 % or below, EUR 250 at 0.06 %, EUR 500 at 0.01 %. Null (the default) offers
    no TRA exemption: set it only from a measured rate (docs/sca-policy.md).
  EOT
  type        = string
  default     = null
  nullable    = true

  validation {
    condition     = var.sca_tra_fraud_rate_percent == null || try(can(regex("^[0-9]+(\\.[0-9]+)?$", var.sca_tra_fraud_rate_percent)) && tonumber(var.sca_tra_fraud_rate_percent) > 0 && tonumber(var.sca_tra_fraud_rate_percent) <= 0.13, false)
    error_message = "sca_tra_fraud_rate_percent must be a decimal string above 0 and at most 0.13 (percent, e.g. \"0.015\"), or null to offer no TRA exemption."
  }
}

variable "issuer_country_prefixes" {
  description = "BIN source for the fraud rules and the SCA scope (ISSUER_COUNTRY_PREFIXES): BIN prefix (1 to 8 digits) => ISSUER ISO 3166 alpha-2 country, longest prefix wins. Empty uses the test-card prefixes in the local environment only and no BIN data elsewhere (issuer countries unknown: country rules silent, every card in SCA scope). A full BIN table belongs in a data file (ISSUER_COUNTRY_FILE, docs/sca-policy.md)."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for prefix, country in var.issuer_country_prefixes : can(regex("^[0-9]{1,8}$", prefix)) && can(regex("^[A-Z]{2}$", country))])
    error_message = "issuer_country_prefixes keys must be BIN prefixes of 1 to 8 digits and values ISO 3166 alpha-2 codes such as \"DE\"."
  }
}

variable "fraud_rules" {
  description = <<-EOT
    Overrides of the fraud scorer's defaults (FRAUD_RULES; empty keeps every default). Keys are
    review_threshold, block_threshold, amount_limit_eur_minor, amount_unusual_eur_minor,
    card_velocity_per_hour, device_velocity_per_hour, or weights.<reason> for a rule weight
    (0-100, 0 switches the rule off), reason one of amount_above_limit, amount_unusual,
    velocity_card, velocity_device, country_mismatch_card_ip, country_mismatch_card_customer,
    country_mismatch_ip_customer, country_mismatch_intra_eea_uk. Values are whole numbers >= 0.
    The country rules add their heaviest fired weight once (max, not sum).
  EOT
  type        = map(number)
  default     = {}
  nullable    = false

  validation {
    condition = alltrue([
      for key, value in var.fraud_rules : (
        contains(["review_threshold", "block_threshold", "amount_limit_eur_minor", "amount_unusual_eur_minor", "card_velocity_per_hour", "device_velocity_per_hour"], key) ||
        can(regex("^weights\\.(amount_above_limit|amount_unusual|velocity_card|velocity_device|country_mismatch_card_ip|country_mismatch_card_customer|country_mismatch_ip_customer|country_mismatch_intra_eea_uk)$", key))
      ) && value >= 0 && floor(value) == value
    ])
    error_message = "fraud_rules keys must be a fraud rules setting or weights.<reason> (see the description), with whole values >= 0."
  }

  validation {
    condition     = alltrue([for key, value in var.fraud_rules : value <= 100 if startswith(key, "weights.")])
    error_message = "fraud_rules weights must be between 0 and 100."
  }
}

variable "ip_country_ranges" {
  description = "GeoIP source for the fraud rules (IP_COUNTRY_RANGES): CIDR network => ISO 3166 alpha-2 country, longest prefix wins. Empty uses the documentation ranges (RFC 5737, RFC 3849) in the local environment only and no GeoIP data elsewhere. A full GeoIP extract belongs in a data file (IP_COUNTRY_FILE, docs/sca-policy.md)."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for cidr, country in var.ip_country_ranges : try(cidrsubnet(cidr, 0, 0) == lower(cidr), false) && can(regex("^[A-Z]{2}$", country))])
    error_message = "ip_country_ranges keys must be CIDR networks without host bits (\"192.0.2.0/24\", \"2001:db8::/32\") and values ISO 3166 alpha-2 codes such as \"DE\"."
  }
}

variable "acquirer_connector" {
  description = "Acquirer process_payment and reconcile authorize, capture, refund and void with, and settle reads settlement batches from (ACQUIRER_CONNECTOR): \"simulator\" (test cards, no money moves) or \"http\" (functions/adapters/acquirer_http.py, a JSON acquirer API; set acquirer_http and acquirer_vpc_config)."
  type        = string
  default     = "simulator"
  nullable    = false

  validation {
    condition     = contains(["simulator", "http"], var.acquirer_connector)
    error_message = "acquirer_connector must be \"simulator\" or \"http\" (with acquirer_http)."
  }
}

variable "acquirer_http" {
  description = "The http acquirer connector's API (base_url, https) and the Secrets Manager secret holding its bearer token (credential_secret_arn, encrypted with the application key: the functions read it through Secrets Manager, once per container and again when the acquirer answers 401, so rotating it needs no apply). Required with acquirer_connector = \"http\", ignored otherwise. How the functions reach the acquirer from the CDE subnets is docs/decisions/0010-acquirer-egress.md."
  type = object({
    base_url              = string
    credential_secret_arn = string
  })
  default = null

  validation {
    condition     = var.acquirer_http == null || can(regex("^https://[a-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$", var.acquirer_http.base_url))
    error_message = "acquirer_http.base_url must be https://host[:port][/path], without credentials, query or fragment."
  }
  validation {
    condition     = var.acquirer_http == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$", var.acquirer_http.credential_secret_arn))
    error_message = "acquirer_http.credential_secret_arn must be a Secrets Manager secret ARN (arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-<suffix>)."
  }
  validation {
    condition     = var.acquirer_connector != "http" || var.acquirer_http != null
    error_message = "acquirer_connector = \"http\" needs acquirer_http (the API's base_url and the secret holding its token)."
  }
}

variable "three_ds_server" {
  description = "The 3-D Secure access control server the risk step challenges cardholders with. Only \"simulator\" exists so far (functions/domain/three_ds.py SimulatedAcs: the one-time code 123456 always authenticates), so no real cardholder is ever authenticated."
  type        = string
  default     = "simulator"
  nullable    = false

  validation {
    condition     = contains(["simulator"], var.three_ds_server)
    error_message = "three_ds_server must be \"simulator\" (the only 3-D Secure server so far)."
  }
}

variable "allow_simulated_card_network_in_prod" {
  description = "DANGER: let an environment named prod run the acquirer simulator and the simulated 3-D Secure server, which approve test cards, move no money and authenticate anyone with 123456. Only for a prod-shaped rehearsal that takes no real payments."
  type        = bool
  default     = false
  nullable    = false

  # The prod guard sits here, not on acquirer_connector or three_ds_server: a validation that
  # refers to another variable is skipped when that one is invalid, which would also skip
  # their own checks.
  validation {
    condition     = var.environment != "prod" || var.allow_simulated_card_network_in_prod || (var.acquirer_connector != "simulator" && var.three_ds_server != "simulator")
    error_message = "prod refuses the simulated card network: acquirer_connector \"simulator\" approves test cards and moves no money, three_ds_server \"simulator\" authenticates anyone with 123456. Plug in a real acquirer and 3-D Secure server, or set allow_simulated_card_network_in_prod = true for a prod-shaped rehearsal that takes no real payments."
  }
}

variable "acquirer_timeout_ms" {
  description = "Timeout of one acquirer call in milliseconds (ACQUIRER_TIMEOUT_MS); process_payment's own timeout is 15 s."
  type        = number
  default     = 3000
  nullable    = false

  validation {
    condition     = var.acquirer_timeout_ms >= 100 && var.acquirer_timeout_ms <= 29000 && floor(var.acquirer_timeout_ms) == var.acquirer_timeout_ms
    error_message = "acquirer_timeout_ms must be a whole number between 100 and 29000."
  }
}

variable "ledger_shards" {
  description = "Shards of each ledger account's balance (LEDGER_SHARDS): hot accounts spread their writes over this many items."
  type        = number
  default     = 8
  nullable    = false

  validation {
    condition     = var.ledger_shards >= 1 && var.ledger_shards <= 64 && floor(var.ledger_shards) == var.ledger_shards
    error_message = "ledger_shards must be a whole number between 1 and 64."
  }
}

variable "authorization_validity_days" {
  description = "Days an uncaptured authorization is kept (AUTHORIZATION_VALIDITY_DAYS): the scheduled reconciliation then cancels it (reason expired), voiding it at the acquirer and reversing its ledger entry. Card schemes keep an authorization valid for about 7 days (longer for some merchant categories), and Stripe cancels uncaptured payments after 7 days."
  type        = number
  default     = 7
  nullable    = false

  validation {
    condition     = var.authorization_validity_days >= 1 && var.authorization_validity_days <= 30 && floor(var.authorization_validity_days) == var.authorization_validity_days
    error_message = "authorization_validity_days must be a whole number of days between 1 and 30."
  }
}

variable "reconcile_schedule_expression" {
  description = "EventBridge schedule of the reconcile function on the account's default bus, e.g. \"rate(1 hour)\" or \"cron(15 2 * * ? *)\". Null creates no schedule (invoke it by hand)."
  type        = string
  default     = "rate(1 hour)"
  nullable    = true

  validation {
    condition     = var.reconcile_schedule_expression == null ? true : can(regex("^(rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\)|cron\\(.+\\))$", var.reconcile_schedule_expression))
    error_message = "reconcile_schedule_expression must be rate(<n> <unit>) or cron(...), or null."
  }
}

variable "reconcile_repair" {
  description = "Whether the scheduled reconciliation applies the safe repairs (posts a journal entry the payment record proves, republishes a missing event, cancels stale holds, compensates stuck payments, settles lost acquirer answers) or only reports and alarms. Off by default: a person reads the report, then runs it by hand with {\"repair\": true}; turn it on where unattended repair is wanted (a sandbox, say)."
  type        = bool
  default     = false
  nullable    = false
}

variable "merchant_service_charge" {
  description = <<-EOT
    The merchant service charge (MERCHANT_SERVICE_CHARGE): what the platform charges a merchant per
    captured payment, booked inside the capture's own journal entry (Dr merchant_payable / Cr
    msc_income). Per currency, a rate in basis points (fractions allowed: 95.5 is 0.955 %) plus a
    fixed amount in major units as a decimal string ("0.25" EUR); `merchants` overrides the
    default per merchant id and currency. The rate part is rounded half up to a minor unit; a
    currency with no rate is charged nothing. Empty (the default) charges nothing.
  EOT
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

  validation {
    condition = alltrue(flatten([
      for rates in concat([var.merchant_service_charge.default], values(var.merchant_service_charge.merchants)) : [
        for currency, rate in rates : can(regex("^[A-Z]{3}$", currency)) && rate.bps >= 0 && rate.bps <= 10000 && can(regex("^[0-9]+([.][0-9]+)?$", rate.fixed))
      ]
    ]))
    error_message = "merchant_service_charge rates are keyed by ISO 4217 code (EUR), with bps between 0 and 10000 and fixed a non-negative decimal string in major units (\"0.25\")."
  }

  validation {
    # The fixed part must be a whole number of the currency's minor units (ISO 4217 exponent).
    condition = alltrue(flatten([
      for rates in concat([var.merchant_service_charge.default], values(var.merchant_service_charge.merchants)) : [
        for currency, rate in rates : length(try(regex("[.]([0-9]+)$", rate.fixed)[0], "")) <= (
          contains(["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"], currency) ? 0 : (
            contains(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], currency) ? 3 : (
          contains(["CLF", "UYW"], currency) ? 4 : 2))
        )
      ]
    ]))
    error_message = "merchant_service_charge fixed amounts must be whole minor units of their currency: at most 2 decimals for EUR, none for JPY, 3 for KWD (ISO 4217)."
  }

  validation {
    condition     = alltrue([for merchant in keys(var.merchant_service_charge.merchants) : can(regex("^[A-Za-z0-9_-]{1,64}$", merchant))])
    error_message = "merchant_service_charge merchant ids are 1-64 letters, digits, '_' or '-'."
  }
}

variable "settlement_schedule_expression" {
  description = "EventBridge schedule of the settle function (books the acquirer's settlement batches, then pays merchants their settled funds of the day), e.g. \"cron(30 6 * * ? *)\". Null creates no schedule (invoke it by hand)."
  type        = string
  default     = "cron(30 6 * * ? *)"
  nullable    = true

  validation {
    condition     = var.settlement_schedule_expression == null ? true : can(regex("^(rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\)|cron\\(.+\\))$", var.settlement_schedule_expression))
    error_message = "settlement_schedule_expression must be rate(<n> <unit>) or cron(...), or null."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrency per function (caps each one; 0 stops it). The hot path shares the account's concurrency, so size these with the expected peak."
  type = object({
    payments_api    = optional(number, 10)
    assess_risk     = optional(number, 10)
    process_payment = optional(number, 10)
    reconcile       = optional(number, 1)
    # One at a time: payouts are decided on a scan of the ledger.
    settle = optional(number, 1)
  })
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for v in values(var.reserved_concurrency) : v >= 0 && floor(v) == v])
    error_message = "reserved_concurrency values must be whole numbers >= 0."
  }
}

variable "api_rate_limit_per_second" {
  description = "Steady-state request rate the API stage accepts across all callers (burst is twice this)."
  type        = number
  default     = 200
  nullable    = false

  validation {
    condition     = var.api_rate_limit_per_second >= 1 && var.api_rate_limit_per_second <= 10000
    error_message = "api_rate_limit_per_second must be between 1 and 10000."
  }
}

variable "waf_rate_limit_per_5_minutes" {
  description = "Requests one IP address may make in five minutes before WAF blocks it."
  type        = number
  default     = 2000
  nullable    = false

  validation {
    condition     = var.waf_rate_limit_per_5_minutes >= 100
    error_message = "waf_rate_limit_per_5_minutes must be at least 100 (WAF's minimum)."
  }
}

variable "fraud_stream" {
  description = "The fraud stream the assess step reads (modules/fraud_stream: its feature and block-list table names; that module grants the assess_risk role read access). model_mode: off (block list only), shadow (the trained model scored and recorded, not deciding) or strictest (the stricter of rules and model decides). Null: no stream, the rules alone."
  type = object({
    feature_table_name    = string
    block_list_table_name = string
    model_mode            = optional(string, "shadow")
  })
  default = null

  validation {
    condition     = var.fraud_stream == null || contains(["off", "shadow", "strictest"], try(var.fraud_stream.model_mode, ""))
    error_message = "fraud_stream.model_mode must be off, shadow or strictest."
  }
}

variable "credit" {
  description = <<-EOT
    BNPL (modules/credit_decisioning), null for card payments only. api_function_name and
    api_invoke_arn: the credit API function, served by this REST API with the same IAM signing
    (its invoke permission per route is the caller's: output credit_routes) as the payment routes (POST /v1/credit/decisions, GET /v1/credit/decisions/{id}, POST
    /v1/credit/decisions/{id}/reviews, GET /v1/bnpl/plans/{id}, POST
    /v1/bnpl/plans/{id}/settle). bnpl_function_arn: the workflow's BNPL step, taken by a
    `payment_method.type = "bnpl"` payment from the first Choice state (card payments take no
    extra state).
  EOT
  type = object({
    api_function_name = string
    api_invoke_arn    = string
    bnpl_function_arn = string
  })
  default = null
}

variable "webhooks" {
  description = "Webhooks (modules/webhooks), null for none: the function that answers the webhook endpoint routes (POST and GET /v1/webhook_endpoints, DELETE /v1/webhook_endpoints/{endpoint_id}, POST .../rotate_secret, GET .../deliveries) behind the merchant authorizer. Its invoke permission per route is the caller's (output webhook_routes)."
  type = object({
    api_function_name = string
    api_invoke_arn    = string
  })
  default = null

  validation {
    condition     = var.webhooks == null || can(regex("^arn:aws[a-z-]*:apigateway:[a-z0-9-]+:lambda:path/2015-03-31/functions/arn:aws[a-z-]*:lambda:.+/invocations$", var.webhooks.api_invoke_arn))
    error_message = "webhooks.api_invoke_arn must be a Lambda function's API Gateway invoke ARN (arn:<partition>:apigateway:<region>:lambda:path/2015-03-31/functions/<function ARN>/invocations)."
  }
}

variable "request_body_validation" {
  description = "Who refuses a request body outside its model (docs/decisions/0011-request-body-validation.md). \"function\" (the default): the functions, whose 400 names the field in error.param, as the API contract promises; API Gateway still checks the required parameters and every POST method carries its model. \"gateway\": API Gateway's request validator also checks every body against its model (api_models.tf) before anything runs, so a malformed body costs no invocation, but its 400 (BAD_REQUEST_BODY, code body_invalid) cannot name the field: API Gateway puts no validator text into a JSON body safely."
  type        = string
  default     = "function"

  validation {
    condition     = contains(["function", "gateway"], var.request_body_validation)
    error_message = "request_body_validation must be \"function\" or \"gateway\"."
  }
}

variable "api_domain_name" {
  description = "Custom domain of the Payment API (e.g. api.payments.example.com): a REGIONAL API Gateway domain with the TLS_1_2 security policy, mapped to the v1 stage at its root (https://<domain>/v1/payments), and the default execute-api endpoint disabled, so no client reaches the API with TLS 1.0 or 1.1. Point the name at the output api_domain's regional_domain_name (an alias record). Null serves the API on its default execute-api endpoint, whose TLS policy API Gateway does not let anyone choose (it negotiates TLS 1.0 and up: see the README). Set together with api_certificate_arn."
  type        = string
  default     = null

  validation {
    condition     = var.api_domain_name == null || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$", var.api_domain_name))
    error_message = "api_domain_name must be a lowercase fully qualified host name such as api.payments.example.com (no scheme, path, port or trailing dot)."
  }
  validation {
    condition     = (var.api_domain_name == null) == (var.api_certificate_arn == null)
    error_message = "api_domain_name and api_certificate_arn go together: set both (a custom domain with TLS 1.2) or neither (the default endpoint)."
  }
}

variable "api_certificate_arn" {
  description = "ACM certificate of api_domain_name, issued or imported in the API's own Region (a REGIONAL domain takes no us-east-1 certificate) and covering that name. Null with api_domain_name null."
  type        = string
  default     = null

  validation {
    condition     = var.api_certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+$", var.api_certificate_arn))
    error_message = "api_certificate_arn must be an ACM certificate ARN (arn:<partition>:acm:<region>:<account>:certificate/<id>)."
  }
}

variable "merchant_usage_plans" {
  description = <<-EOT
    Per-merchant rate limits (api_throttling.tf): one API Gateway usage plan per merchant tier,
    tier => { rate_limit (steady requests per second), burst_limit (requests at once), quota
    (optional: limit requests per period, DAY, WEEK or MONTH) }. Each merchant's API key, made
    by the registry at onboarding, sits on the plan of its tier (`standard` unless onboarded
    with another); a merchant over its plan is answered 429 THROTTLED (QUOTA_EXCEEDED for the
    quota) and no other merchant is slowed. The stage's own limit (api_rate_limit_per_second)
    still caps everyone together.
  EOT
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
    error_message = "merchant_usage_plans must define the tier standard: a merchant onboarded without a tier is put on it."
  }
  validation {
    condition     = alltrue([for tier in keys(var.merchant_usage_plans) : can(regex("^[a-z][a-z0-9_]{0,31}$", tier))])
    error_message = "merchant_usage_plans tiers must be 1-32 lowercase letters, digits or _, starting with a letter (the registry's tier form)."
  }
  validation {
    condition = alltrue([for p in values(var.merchant_usage_plans) :
      p.rate_limit > 0 && p.rate_limit <= 10000 && p.burst_limit >= 1 && p.burst_limit <= 5000 && floor(p.burst_limit) == p.burst_limit
    ])
    error_message = "merchant_usage_plans: rate_limit must be above 0 and at most 10000 per second, burst_limit a whole number from 1 to 5000 (API Gateway's account burst)."
  }
  validation {
    condition = alltrue([for p in values(var.merchant_usage_plans) :
      p.quota == null ? true : (contains(["DAY", "WEEK", "MONTH"], p.quota.period) && p.quota.limit >= 1 && floor(p.quota.limit) == p.quota.limit)
    ])
    error_message = "merchant_usage_plans: a quota is a whole limit of at least 1 per DAY, WEEK or MONTH."
  }
}
