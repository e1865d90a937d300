variable "name" {
  description = "Bucket name (globally unique: the caller includes the account id)."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed key for SSE-KMS default encryption (with S3 bucket keys)."
  type        = string
}

variable "access_log_bucket" {
  description = "Bucket receiving this bucket's server access logs (under s3/<name>/)."
  type        = string
}

variable "lifecycle_rules" {
  description = "Expiry per prefix (\"\" for the whole bucket): days until current objects expire, optional transition to STANDARD_IA, days noncurrent versions are kept."
  type = list(object({
    id              = string
    prefix          = string
    expiration_days = number
    ia_after_days   = optional(number)
    noncurrent_days = number
  }))
}

variable "force_destroy" {
  description = "Let terraform destroy delete the bucket with its objects."
  type        = bool
}

variable "data_class" {
  description = "DataClass tag of the bucket."
  type        = string
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
}
