# Applied once per AWS account, with credentials of an administrator (an SSO session), before
# any environment: it makes what the environments' first apply needs and cannot make itself.
provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = {
      Environment = "bootstrap"
      # Security-impacting (its roles can change the CDE), so within PCI DSS scope, but it holds
      # no cardholder data: not "cde".
      PCIScope  = "connected"
      DataClass = "internal" # Terraform state: resource configuration, no cardholder data
      Owner     = var.owner
      ManagedBy = "terraform"
    }
  }
}
