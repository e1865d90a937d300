variable "name" {
  description = "Name prefix of every resource: the table (<name>-vault), the functions (<name>-tokenize, <name>-detokenize, <name>-vault-admin), the audit log group and, when created here, the audit bus."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$", var.name))
    error_message = "name must be 2-40 lowercase letters, digits or '-', not starting or ending with '-' (the longest function name, <name>-vault-admin, must stay within 55 characters)."
  }
}

variable "filename" {
  description = "Path to the deployment zip of the functions package, built outside Terraform (make build): build/lambda/functions-aws.zip on AWS, functions-local.zip on the emulator."
  type        = string

  validation {
    condition     = fileexists(var.filename)
    error_message = "filename must point at an existing file (run `make build` first)."
  }
}

variable "runtime" {
  description = "Lambda runtime the zip was built for: python3.12 or python3.13 on AWS; python3.11 on the local emulator, whose workers run the zip built for this machine's Python."
  type        = string
  default     = "python3.12"

  validation {
    condition     = contains(["python3.11", "python3.12", "python3.13"], var.runtime)
    error_message = "runtime must be python3.11 (emulator), python3.12 or python3.13."
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

variable "vault_key_arn" {
  description = "Customer-managed symmetric KMS key ARN that wraps the vault's data keys (the kms module's vault key). It also encrypts the vault table at rest."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.vault_key_arn))
    error_message = "vault_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>); aliases and AWS-managed keys are refused."
  }
}

variable "previous_vault_key_arns" {
  description = "Vault keys used before a key change: records wrapped under them stay readable (detokenize, rewrap) until the admin function's rewrap has moved them to vault_key_arn. Empty in normal operation."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.previous_vault_key_arns : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", arn))])
    error_message = "previous_vault_key_arns must hold KMS key ARNs."
  }
}

variable "fingerprint_key_arn" {
  description = "HMAC_256 KMS key ARN (GENERATE_VERIFY_MAC) for PAN fingerprints (the kms module's fingerprint key)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.fingerprint_key_arn))
    error_message = "fingerprint_key_arn must be a KMS key ARN."
  }
}

variable "card_key_mac_key_arn" {
  description = "HMAC_256 KMS key ARN (GENERATE_VERIFY_MAC) for the platform-wide card key that tokenize returns to the payment workflow for risk counters (the kms module's card key). Null computes it with the fingerprint key under a separate label (unrelated values, but one key for both)."
  type        = string
  default     = null

  validation {
    condition     = var.card_key_mac_key_arn == null ? true : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.card_key_mac_key_arn))
    error_message = "card_key_mac_key_arn must be a KMS key ARN."
  }
}

variable "env_kms_key_arn" {
  description = "Customer-managed KMS key ARN for the functions' environment variables and failure queues (the kms module's application key)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.env_kms_key_arn))
    error_message = "env_kms_key_arn must be a KMS key ARN."
  }
}

variable "logs_kms_key_arn" {
  description = "Customer-managed KMS key ARN for every log group, the detokenization audit log group included (the kms module's logs key, whose policy admits CloudWatch Logs)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.logs_kms_key_arn))
    error_message = "logs_kms_key_arn must be a KMS key ARN."
  }
}

variable "vpc_config" {
  description = "Private subnets and security groups of the three functions (they handle card numbers). Required; there is no opt-out for a vault."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })

  validation {
    condition     = length(var.vpc_config.subnet_ids) >= 2 && length(var.vpc_config.security_group_ids) >= 1
    error_message = "vpc_config needs at least two subnets (two AZs) and at least one security group."
  }
}

variable "detokenize_allowed_principals" {
  description = "IAM principals allowed to detokenize through the API (checked against requestContext.identity.userArn): exact ARNs, IAM role ARNs (matching every session of the role), or prefixes ending in '/'. Empty means nobody. No wildcards."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.detokenize_allowed_principals : can(regex("^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:[^*,]+$", p))])
    error_message = "detokenize_allowed_principals must hold IAM or STS ARNs of this partition, without '*' or ','."
  }

  # A bare type prefix matches every principal of that type in the account: every role session
  # ("assumed-role/"), every role or every user.
  validation {
    condition     = alltrue([for p in var.detokenize_allowed_principals : !can(regex(":(assumed-role|role|user|federated-user)/$", p))])
    error_message = "detokenize_allowed_principals must not hold a bare prefix such as arn:aws:sts::<account>:assumed-role/ (it admits every role session); name the role (arn:aws:iam::<account>:role/<name>) or a prefix ending with its name and '/'."
  }
}

variable "audit_event_bus_name" {
  description = "Your EventBridge bus (a SIEM feed, with your rules on it) that receives every detokenize, erasure and rewrap audit event (source payments.vault) besides the audit log group; each audited call then also waits on PutEvents and fails if it fails. Null (the default) publishes no events: the log group is the record and its alarms the alerting."
  type        = string
  default     = null

  validation {
    condition     = var.audit_event_bus_name == null ? true : can(regex("^[A-Za-z0-9._-]{1,256}$", var.audit_event_bus_name)) && var.audit_event_bus_name != "default"
    error_message = "audit_event_bus_name must be a custom bus name (letters, digits, . _ -); the account's default bus is refused."
  }
}

variable "audit_log_retention_in_days" {
  description = "Retention of the detokenization audit log group. PCI DSS 10.5.1 needs at least one year; the default keeps seven."
  type        = number
  default     = 2557

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.audit_log_retention_in_days)
    error_message = "audit_log_retention_in_days must be a CloudWatch Logs retention value of at least 365 days (365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "log_retention_in_days" {
  description = "Retention of the functions' own log groups (at least one year)."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be a CloudWatch Logs retention value of at least 365 days."
  }
}

variable "deletion_protection" {
  description = "Deletion protection of the vault table. Turn it off only for throwaway environments (the local emulator)."
  type        = bool
  default     = true
}

variable "reserved_concurrency" {
  description = "Reserved concurrency per function: tokenize sits on the payment hot path, detokenize and admin are rare by design (a low cap limits how fast a stolen credential can read cards)."
  type = object({
    tokenize   = optional(number, 50)
    detokenize = optional(number, 5)
    admin      = optional(number, 1)
  })
  default = {}

  validation {
    condition     = alltrue([for v in values(var.reserved_concurrency) : v >= 0 && floor(v) == v])
    error_message = "reserved_concurrency values must be whole numbers >= 0 (0 stops the function)."
  }
}

variable "memory_size" {
  description = "Memory of each function in MB."
  type        = number
  default     = 512

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB between 128 and 10240."
  }
}

variable "vault_settings" {
  description = "Domain cache bounds passed as VAULT_* variables (see functions/domain/vault/model.py VaultSettings); unset keeps the domain defaults. customer_key_cache_max_age_seconds bounds how long an erasure takes to reach a warm container."
  type = object({
    data_key_max_age_seconds           = optional(number)
    data_key_max_uses                  = optional(number)
    customer_key_cache_max_age_seconds = optional(number)
    decrypt_cache_max_age_seconds      = optional(number)
  })
  default = {}

  validation {
    condition     = alltrue([for v in values(var.vault_settings) : v == null ? true : v > 0])
    error_message = "vault_settings values must be positive."
  }

  validation {
    condition     = var.vault_settings.data_key_max_uses == null ? true : var.vault_settings.data_key_max_uses <= 1000000
    error_message = "vault_settings.data_key_max_uses must be at most 1000000 (a wrapping key seals customer keys with random AES-GCM nonces)."
  }
}

variable "tokenize_class_limit" {
  description = "Tokenize rate limit per merchant (tenant) and card class (first six digits, last four, length): at most max_new_cards cards the merchant's customer had not tokenized before (each wrong guess of a card-testing enumeration is one) in a fixed window of window_seconds. At the limit every card of the class is refused with 429 tokenize_rate_limited until the window ends, returning cards included (a refusal of new cards only would itself answer the guess), and the alarm TokenizeRateLimited fires. Honest traffic rarely brings one merchant many different cards of one class in an hour; an enumeration of the middle digits brings up to 10^5 (issue 18, finding 5)."
  type = object({
    max_new_cards  = optional(number, 20)
    window_seconds = optional(number, 3600)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.tokenize_class_limit.max_new_cards >= 1 && var.tokenize_class_limit.max_new_cards <= 10000 && floor(var.tokenize_class_limit.max_new_cards) == var.tokenize_class_limit.max_new_cards
    error_message = "tokenize_class_limit.max_new_cards must be a whole number from 1 to 10000 (there is no switch to turn the limit off)."
  }

  validation {
    condition     = var.tokenize_class_limit.window_seconds >= 60 && var.tokenize_class_limit.window_seconds <= 86400 && floor(var.tokenize_class_limit.window_seconds) == var.tokenize_class_limit.window_seconds
    error_message = "tokenize_class_limit.window_seconds must be a whole number of seconds from 60 to 86400."
  }
}

variable "alarm_sns_topic_arn" {
  description = "SNS topic notified by the functions' alarms, the denied/failed-detokenize alarm and the tokenize rate-limit alarm. Null creates the alarms without actions."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_sns_topic_arn == null ? true : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:.+$", var.alarm_sns_topic_arn))
    error_message = "alarm_sns_topic_arn must be an SNS topic ARN."
  }
}

variable "permissions_boundary_arn" {
  description = "Optional IAM permissions boundary for the three function roles."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource. The table and the functions always carry DataClass = cardholder-data."
  type        = map(string)
  default     = {}
}
