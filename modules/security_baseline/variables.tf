variable "name" {
  description = "Prefix of the Config recorder, its delivery bucket (<name>-config-<account>) and its role."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,28}[a-z0-9]$", var.name))
    error_message = "name must be 3-30 lowercase letters, digits or '-', not starting or ending with '-' (it becomes part of an S3 bucket name)."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key ARN (the kms module's logs key) that encrypts the Config delivery bucket and the configuration snapshots and history Config writes to it. Its policy must let the account's IAM policies grant its use (the kms module's keys do)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "guardduty" {
  description = "GuardDuty threat detection (PCI DSS 10.4.1.1, 11.5.1): the account's detector, with S3 protection (CloudTrail S3 data events) and Lambda protection (the functions' network activity). Set enabled = false only where the account already has a detector (one per account and region, for example managed by the organisation's delegated administrator); the compliance scan reports the opt-out (CKV_PCI_024)."
  type = object({
    enabled                      = optional(bool, true)
    s3_protection                = optional(bool, true)
    lambda_protection            = optional(bool, true)
    finding_publishing_frequency = optional(string, "FIFTEEN_MINUTES")
  })
  default  = {}
  nullable = false

  validation {
    condition     = contains(["FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS"], var.guardduty.finding_publishing_frequency)
    error_message = "guardduty.finding_publishing_frequency must be FIFTEEN_MINUTES, ONE_HOUR or SIX_HOURS."
  }
}

variable "security_hub" {
  description = "Security Hub (PCI DSS 10.4.1.1: automated review of the security findings) with the PCI DSS v4.0.1 standard and AWS Foundational Security Best Practices. Set enabled = false only where the account is already enabled (for example by the organisation's delegated administrator); the compliance scan reports the opt-out (CKV_PCI_025)."
  type = object({
    enabled                     = optional(bool, true)
    pci_dss                     = optional(bool, true)
    foundational_best_practices = optional(bool, true)
  })
  default  = {}
  nullable = false
}

variable "config" {
  description = "AWS Config (PCI DSS 2.2, 11.5.2: the configuration of every supported resource recorded, and changes to it detected): a recorder of all supported resource types (global ones included), its delivery channel to a CMK-encrypted bucket, and the managed rules in local.config_rules. Set enabled = false only where the account already records (one recorder per account and region); the compliance scan reports the opt-out (CKV_PCI_026)."
  type = object({
    enabled                 = optional(bool, true)
    managed_rules           = optional(bool, true)
    snapshot_frequency      = optional(string, "TwentyFour_Hours")
    delivery_retention_days = optional(number, 365)
  })
  default  = {}
  nullable = false

  validation {
    condition     = contains(["One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours"], var.config.snapshot_frequency)
    error_message = "config.snapshot_frequency must be One_Hour, Three_Hours, Six_Hours, Twelve_Hours or TwentyFour_Hours."
  }

  validation {
    condition     = var.config.delivery_retention_days >= 365
    error_message = "config.delivery_retention_days must be at least 365 (PCI DSS 10.5.1 keeps a year of history)."
  }
}

variable "access_analyzer" {
  description = "IAM Access Analyzer (PCI DSS 7.2.2): an analyzer whose zone of trust is the account, reporting every bucket, key, role, queue, function or secret policy that grants access to another account or the public. Set enabled = false only where the account is already covered (an organisation analyzer of the delegated administrator); the compliance scan reports the opt-out (CKV_PCI_029)."
  type = object({
    enabled = optional(bool, true)
  })
  default  = {}
  nullable = false
}

variable "inspector" {
  description = "Amazon Inspector (PCI DSS 6.3.3, 11.3.1.1: software vulnerabilities found and ranked) scanning the Lambda functions' packages and, with lambda_code, their code. Set enabled = false only where the organisation's delegated administrator already enables it; the compliance scan reports the opt-out (CKV_PCI_027)."
  type = object({
    enabled     = optional(bool, true)
    lambda_code = optional(bool, true)
  })
  default  = {}
  nullable = false
}

variable "force_destroy" {
  description = "Let `terraform destroy` empty the Config delivery bucket (throwaway runs such as the local emulator)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every resource (environments add Environment, PCIScope, DataClass and Owner through the provider's default_tags)."
  type        = map(string)
  default     = {}
}
