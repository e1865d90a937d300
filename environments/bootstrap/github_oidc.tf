# GitHub Actions' OIDC provider (one per account). Its tokens are exchanged for the deploy
# roles below; no long-lived AWS key is stored in GitHub.
resource "aws_iam_openid_connect_provider" "github" {
  count = var.github_oidc_provider_arn == null ? 1 : 0

  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
  # IAM verifies GitHub's tokens against its own trusted CA store and ignores the thumbprint for
  # this issuer; the provider API still requires one value, so the published one is kept.
  thumbprint_list = ["6938fd4d98bab03faadb97b34396831e3780aea1"]
}

locals {
  github_oidc_provider_arn = coalesce(var.github_oidc_provider_arn, one(aws_iam_openid_connect_provider.github[*].arn))
  github_issuer            = "token.actions.githubusercontent.com"

  # The subject GitHub puts in a token of a job that runs in a GitHub environment, in the name
  # format and in the immutable format (owner and repository ids, which a recycled name cannot
  # take over).
  github_repository_subjects = {
    name      = "repo:${var.github.owner}/${var.github.repository}"
    immutable = "repo:${var.github.owner}@${coalesce(var.github.owner_id, 0)}/${var.github.repository}@${coalesce(var.github.repository_id, 0)}"
  }
  github_subject_formats = {
    name      = ["name"]
    immutable = ["immutable"]
    both      = ["name", "immutable"]
  }[var.github_subject_format]

  # environment => role kind => the exact subjects its trust accepts.
  deploy_subjects = {
    for env, settings in local.environments : env => {
      plan = [for format in local.github_subject_formats :
      "${local.github_repository_subjects[format]}:environment:${settings.plan_github_environment}"]
      apply = [for format in local.github_subject_formats :
      "${local.github_repository_subjects[format]}:environment:${settings.apply_github_environment}"]
    }
  }
}
