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

variable "allow_simulated_card_network_in_prod" {
  description = "DANGER: run prod on the acquirer simulator and the simulated 3-D Secure server (the only ones so far: test cards approved, no money moved, 123456 authenticates anyone). Without it, prod refuses to plan. Only for a rehearsal that takes no real payments."
  type        = bool
  default     = false
}

variable "alarm_subscriptions" {
  description = "Who receives the security alarms (required here): [{ protocol = \"email\", endpoint = \"...\" }] or an https incident-management endpoint. Confirm an email subscription from the mailbox."
  type = list(object({
    protocol = string
    endpoint = string
  }))
}
