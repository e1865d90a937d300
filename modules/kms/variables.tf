variable "alias_prefix" {
  description = "Prefix of every key alias, for example \"alias/payments-prod\". Each key gets \"<alias_prefix>/<purpose>\"."
  type        = string
  default     = "alias/payments"

  validation {
    condition     = can(regex("^alias/[a-zA-Z0-9/_-]+[a-zA-Z0-9_-]$", var.alias_prefix)) && !startswith(var.alias_prefix, "alias/aws")
    error_message = "alias_prefix must start with \"alias/\", contain only letters, digits, '/', '_' or '-', not end with '/', and must not use the reserved \"alias/aws\" prefix."
  }
}

variable "cryptoperiod_days" {
  description = "Cryptoperiod of every key in days (PCI DSS 3.6.1.4 / 3.7.4). Symmetric keys rotate automatically with this period; the HMAC key has no automatic rotation in AWS KMS and must be rotated manually by this deadline (see README)."
  type        = number
  default     = 365

  validation {
    condition     = var.cryptoperiod_days >= 90 && var.cryptoperiod_days <= 365 && floor(var.cryptoperiod_days) == var.cryptoperiod_days
    error_message = "cryptoperiod_days must be a whole number between 90 and 365."
  }
}

variable "deletion_window_in_days" {
  description = "Waiting period before a key scheduled for deletion is destroyed."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30 && floor(var.deletion_window_in_days) == var.deletion_window_in_days
    error_message = "deletion_window_in_days must be a whole number between 7 and 30."
  }
}

variable "key_administrator_arns" {
  description = "IAM role ARNs that administer the keys (describe, enable/disable, rotate, tag, change the policy, schedule deletion). Administrators get no cryptographic operation and cannot create grants."
  type        = list(string)

  validation {
    condition     = length(var.key_administrator_arns) > 0
    error_message = "key_administrator_arns must name at least one key administrator role."
  }

  validation {
    condition     = alltrue([for arn in var.key_administrator_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", arn))])
    error_message = "key_administrator_arns must hold IAM role ARNs (arn:<partition>:iam::<account>:role/<name>); users, root and wildcards are refused."
  }
}

variable "key_users" {
  description = <<-EOT
    IAM role ARNs allowed to use each key, per purpose and operation. Everything is optional; a role
    not named here can still be granted use through its own IAM policy (the account root statement
    delegates to IAM, see README).
      vault_encrypt       - kms:Encrypt, kms:GenerateDataKey on the vault key (tokenize path)
      vault_decrypt       - kms:Decrypt on the vault key (detokenize path only)
      fingerprint         - kms:GenerateMac, kms:VerifyMac on the HMAC fingerprint key
      card_key            - kms:GenerateMac on the HMAC card key (risk counters)
      application         - encrypt/decrypt/data keys on the application key (ledger, payments)
      data_lake           - encrypt/decrypt/data keys on the data lake key
      logs_decrypt        - kms:Decrypt on the logs key (log readers, investigators)
  EOT
  type = object({
    vault_encrypt = optional(list(string), [])
    vault_decrypt = optional(list(string), [])
    fingerprint   = optional(list(string), [])
    card_key      = optional(list(string), [])
    application   = optional(list(string), [])
    data_lake     = optional(list(string), [])
    logs_decrypt  = optional(list(string), [])
  })
  default = {}

  validation {
    condition = alltrue([
      for arn in flatten([
        var.key_users.vault_encrypt, var.key_users.vault_decrypt, var.key_users.fingerprint, var.key_users.card_key,
        var.key_users.application, var.key_users.data_lake, var.key_users.logs_decrypt,
      ]) : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", arn))
    ])
    error_message = "key_users must hold IAM role ARNs (arn:<partition>:iam::<account>:role/<name>); users, root and wildcards are refused."
  }

  validation {
    condition = length(setintersection(
      toset(concat(var.key_users.vault_encrypt, var.key_users.vault_decrypt, var.key_users.fingerprint, var.key_users.card_key, var.key_users.application, var.key_users.data_lake, var.key_users.logs_decrypt)),
      toset(var.key_administrator_arns),
    )) == 0
    error_message = "A key administrator must not also be a key user (separation of duties, PCI DSS 3.6.1.2)."
  }
}

variable "vault_key_policy" {
  description = <<-EOT
    Lock the vault key's cryptographic use to the vault functions (PCI DSS 3.5.1.2, 7.2.1): the
    account root keeps management only (no IAM policy can grant Encrypt/Decrypt/GenerateDataKey
    on the vault key any more), the named roles may Decrypt and GenerateDataKey only under the
    vault's encryption contexts, DynamoDB may use it for the tables encrypted with it, and an
    explicit Deny refuses cryptographic use to every other principal. The roles need not exist
    yet (they are matched on aws:PrincipalArn, not as principals).
      crypto_role_arns - the tokenize, detokenize and vault-admin execution role ARNs
    Null keeps AWS's default (root delegates everything to IAM), which the compliance scan flags.
  EOT
  type = object({
    crypto_role_arns = list(string)
  })
  default = null

  validation {
    condition = var.vault_key_policy == null ? true : (
      length(var.vault_key_policy.crypto_role_arns) > 0 &&
      alltrue([for arn in var.vault_key_policy.crypto_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[^*]+$", arn))])
    )
    error_message = "vault_key_policy.crypto_role_arns must hold IAM role ARNs without wildcards (the vault function roles)."
  }

  validation {
    condition     = var.vault_key_policy == null ? true : length(setintersection(toset(var.vault_key_policy.crypto_role_arns), toset(var.key_administrator_arns))) == 0
    error_message = "A key administrator must not also use the vault key (separation of duties, PCI DSS 3.6.1.2)."
  }
}

variable "logs_service_access" {
  description = "AWS services allowed to use the logs key on behalf of this account: CloudWatch Logs (log group encryption, always on), CloudTrail (trail encryption) and CloudWatch alarms (publishing to an SNS topic encrypted with the logs key)."
  type = object({
    cloudtrail        = optional(bool, true)
    cloudwatch_alarms = optional(bool, true)
  })
  default = {}
}

variable "backup_key" {
  description = "Create a key for an AWS Backup vault (modules/backup), its own so that a table's key can be disabled or rotated away without also taking the table's backups. Off unless backups are made."
  type        = bool
  default     = false
  nullable    = false
}

variable "tags" {
  description = "Tags applied to every key."
  type        = map(string)
  default     = {}
}
