module "platform" {
  source = "../../modules/platform"

  name_prefix    = "payments-local"
  lambda_package = var.lambda_package
  # The emulator's workers run this machine's Python; the package is built for it.
  lambda_runtime = "python3.11"
  # Throwaway environment: every `make up` starts from an empty emulator.
  deletion_protection = false
}
