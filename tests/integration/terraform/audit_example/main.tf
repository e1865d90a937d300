# Applies modules/audit/examples/basic unchanged on the emulator (pytest-terraform fixture
# "audit_example"); only the name differs, so the examples can share one emulator.
module "example" {
  source = "../../../../modules/audit/examples/basic"

  name          = "itest-audit"
  force_destroy = true
}

output "example" {
  description = "Every output of the example."
  value       = module.example
}
