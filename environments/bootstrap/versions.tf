terraform {
  # 1.11: the tests use mock_provider's override_during, and the environments this writes
  # backend.hcl for use the S3 backend's use_lockfile (1.10+).
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Only 5.100 is tested (plan, validate and the mock-provider tests); 6.x is untested.
      version = ">= 5.100, < 6.0"
    }
  }
}
