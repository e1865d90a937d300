# Applies modules/kms/examples/basic unchanged on the emulator (pytest-terraform fixture
# "kms_example"); only the name differs, so the examples can share one emulator.
module "example" {
  source = "../../../../modules/kms/examples/basic"

  name = "itest-kms"
}

output "example" {
  description = "Every output of the example."
  value       = module.example
}
