output "state_bucket" {
  description = "Bucket holding every environment's Terraform state in this account."
  value       = aws_s3_bucket.state.id
}

output "state_kms_key_arn" {
  description = "Customer managed key encrypting the state bucket."
  value       = aws_kms_key.state.arn
}

output "key_administrator_role_arn" {
  description = "Put this in the environments' key_administrator_arns (terraform.tfvars)."
  value       = aws_iam_role.key_administrator.arn
}

output "github_oidc_provider_arn" {
  description = "The account's GitHub Actions OIDC provider."
  value       = local.github_oidc_provider_arn
}

output "deploy_role_arns" {
  description = "environment => {plan, apply}: role-to-assume for aws-actions/configure-aws-credentials in the matching GitHub environment."
  value = {
    for env in keys(local.environments) : env => {
      plan  = aws_iam_role.deploy["${env}-plan"].arn
      apply = aws_iam_role.deploy["${env}-apply"].arn
    }
  }
}

output "backend_hcl" {
  description = "environment => the content of environments/<env>/backend.hcl (`make backend-config` writes them)."
  value = {
    for env, settings in local.environments : env => join("\n", [
      "# Written by `make backend-config` from environments/bootstrap's outputs; do not edit.",
      "bucket     = \"${aws_s3_bucket.state.id}\"",
      "region     = \"${var.region}\"",
      "kms_key_id = \"${aws_kms_key.state.arn}\"",
      "",
    ])
  }
}

output "bootstrap_backend_hcl" {
  description = "The content of environments/bootstrap/backend.hcl: with a backend_override.tf, it moves this configuration's own state into the bucket (README.md)."
  value = join("\n", [
    "# Written by `make backend-config` from environments/bootstrap's outputs; do not edit.",
    "bucket       = \"${aws_s3_bucket.state.id}\"",
    "key          = \"${local.state_key_prefix}/bootstrap/terraform.tfstate\"",
    "region       = \"${var.region}\"",
    "kms_key_id   = \"${aws_kms_key.state.arn}\"",
    "encrypt      = true",
    "use_lockfile = true",
    "",
  ])
}
