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
  description = "Who receives the security alarms; optional in dev (an unheard alarm evidences nothing, so staging and prod require one)."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default = []
}
