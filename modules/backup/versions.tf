terraform {
  # 1.11: the tests' mock providers use override_during.
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Only 5.100 is tested; 6.x is a major with breaking changes and untested.
      version = ">= 5.100, < 6.0"
    }
  }
}
