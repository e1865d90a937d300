provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = {
      Environment = "staging"
      PCIScope    = "cde"
      DataClass   = "unclassified" # each resource that holds data says what (policies/README.md)
      Owner       = var.owner
      ManagedBy   = "terraform"
    }
  }
}
