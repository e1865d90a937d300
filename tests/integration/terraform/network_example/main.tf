# Applies modules/network/examples/basic unchanged on the emulator (pytest-terraform fixture
# "network_example"); only the name differs, so the examples can share one emulator.
module "example" {
  source = "../../../../modules/network/examples/basic"

  name = "itest-net"
}

output "example" {
  description = "Every output of the example."
  value       = module.example
}
