# Applies modules/lambda_function/examples/basic unchanged on the emulator (pytest-terraform fixture
# "lambda_function_example"); only the name differs, so the examples can share one emulator.
module "example" {
  source = "../../../../modules/lambda_function/examples/basic"

  name     = "itest-fn"
  filename = var.filename
}

output "example" {
  description = "Every output of the example."
  value       = module.example
}

variable "filename" {
  description = "The Lambda zip built by `make build` (set as TF_VAR_filename by the test)."
  type        = string
}
