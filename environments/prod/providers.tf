provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = {
      Environment = "prod"
      PCIScope    = "cde"
      DataClass   = "internal"
      Owner       = var.owner
      ManagedBy   = "terraform"
    }
  }
}
