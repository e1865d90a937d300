# Applies the foundation modules' examples/basic unchanged on the emulator (pytest-terraform
# fixture "module_examples"), each under a name of its own. One root for the four: each
# `terraform apply` starts Terraform and the provider and refreshes on its own, which cost more
# CPU in make test than creating the examples' resources.
module "kms" {
  source = "../../../../modules/kms/examples/basic"

  name = "itest-kms"
}

module "network" {
  source = "../../../../modules/network/examples/basic"

  name = "itest-net"
}

module "audit" {
  source = "../../../../modules/audit/examples/basic"

  name          = "itest-audit"
  force_destroy = true
}

module "lambda_function" {
  source = "../../../../modules/lambda_function/examples/basic"

  name     = "itest-fn"
  filename = var.filename
}

variable "filename" {
  description = "The Lambda zip built by `make build` (set as TF_VAR_filename by the test)."
  type        = string
}

output "kms" {
  description = "Every output of the kms example."
  value       = module.kms
}

output "network" {
  description = "Every output of the network example."
  value       = module.network
}

output "audit" {
  description = "Every output of the audit example."
  value       = module.audit
}

output "lambda_function" {
  description = "Every output of the lambda_function example."
  value       = module.lambda_function
}
