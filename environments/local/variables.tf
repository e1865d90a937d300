variable "endpoint_url" {
  description = "URL of the local AWS emulator; `make up` passes http://127.0.0.1:$LOCAL_AWS_PORT."
  type        = string
  default     = "http://127.0.0.1:4566"

  validation {
    condition     = can(regex("^http://(127\\.0\\.0\\.1|localhost):[0-9]+$", var.endpoint_url))
    error_message = "endpoint_url must be a loopback URL such as http://127.0.0.1:4566: this environment never talks to AWS."
  }
}

variable "region" {
  description = "Region the emulator serves."
  type        = string
  default     = "us-east-1"
}

variable "emulator_account_id" {
  description = "The account id the emulator answers with (moto's default)."
  type        = string
  default     = "123456789012"
}

variable "owner" {
  description = "Owner tag of every resource."
  type        = string
  default     = "payments-platform"
}

variable "lambda_package" {
  description = "Lambda zip built for this machine's Python by `make build` (the emulator runs it here)."
  type        = string
  default     = "../../build/lambda/functions-local.zip"
}
