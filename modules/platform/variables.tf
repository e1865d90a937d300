variable "name_prefix" {
  description = "Prefix for every resource name, e.g. \"payments-dev\". Lower case, digits and dashes."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name_prefix))
    error_message = "name_prefix must be 3-31 characters of lower case letters, digits and dashes, starting with a letter."
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

variable "log_level" {
  description = "Powertools log level of the functions."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "tags" {
  description = "Tags added to every resource (the environments also set provider default_tags)."
  type        = map(string)
  default     = {}
}
