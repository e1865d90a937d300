# State in S3 with native locking (use_lockfile; DynamoDB locking is deprecated upstream).
# The bucket comes from environments/bootstrap; its name is account-specific, so it is
# passed at init: terraform init -backend-config=backend.hcl (make backend-config writes it)
terraform {
  backend "s3" {
    key          = "payments-blueprint/staging/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}
