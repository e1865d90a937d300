terraform {
  # The S3 backend's use_lockfile needs 1.10; the modules' tests need 1.11.
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Only 5.100 is tested; 6.x is a major with breaking changes and untested.
      version = ">= 5.100, < 6.0"
    }
  }
}
