variable "account_id" {
  description = "The AWS account being bootstrapped; the provider refuses any other."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be a 12-digit AWS account id."
  }
}

variable "region" {
  description = "Region of the state bucket, the API Gateway account settings and the environments deployed from this account."
  type        = string
}

variable "owner" {
  description = "Owner tag of every resource (a team, not a person)."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of the bootstrap's own resources and, followed by -<environment>, of each environment's (environments/<env>/main.tf's name_prefix)."
  type        = string
  default     = "payments"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "environments" {
  description = <<-EOT
    The environments deployed into this account (usually one: dev, staging and prod live in
    separate accounts), each with the GitHub environments its deploy roles trust. The plan
    role trusts plan_github_environment (default <env>-plan: no reviewers, usable by pull
    requests); the apply role trusts apply_github_environment (default <env>: protect it with
    required reviewers and the main branch only), so a pull request can never assume it.
  EOT
  type = map(object({
    plan_github_environment  = optional(string)
    apply_github_environment = optional(string)
  }))

  validation {
    condition     = length(var.environments) > 0 && alltrue([for env in keys(var.environments) : contains(["dev", "staging", "prod"], env)])
    error_message = "environments must name at least one of dev, staging and prod (environments/<name> must exist)."
  }

  validation {
    condition = alltrue(flatten([for env, settings in var.environments : [
      for name in [settings.plan_github_environment, settings.apply_github_environment] :
      name == null ? true : can(regex("^[A-Za-z0-9_.-]+$", name))
    ]]))
    error_message = "GitHub environment names here may hold only letters, digits, '_', '.' and '-' (no wildcard: the trust must match one environment exactly)."
  }
}

variable "github" {
  description = <<-EOT
    The repository whose workflows deploy. owner_id and repository_id are the immutable
    numeric ids (GET /repos/{owner}/{repo}: owner.id and id); they are needed when
    github_subject_format is "immutable" or "both".
  EOT
  type = object({
    owner         = string
    repository    = string
    owner_id      = optional(number)
    repository_id = optional(number)
  })

  validation {
    condition     = can(regex("^[A-Za-z0-9-]+$", var.github.owner)) && can(regex("^[A-Za-z0-9_.-]+$", var.github.repository))
    error_message = "github.owner and github.repository must be the exact names (letters, digits, '-', and '_' or '.' in the repository), no wildcard."
  }
}

variable "github_subject_format" {
  description = <<-EOT
    Which form of the OIDC token's sub claim the deploy roles accept. "name":
    repo:<owner>/<repo>:environment:<env>, the format of repositories created before 15 July
    2026 that have not opted in. "immutable": repo:<owner>@<owner_id>/<repo>@<repo_id>:environment:<env>,
    the default for repositories created or renamed on or after that date (a recycled owner or
    repository name can no longer match). "both": either, for the switch-over only.
  EOT
  type        = string
  default     = "name"
  nullable    = false

  validation {
    condition     = contains(["name", "immutable", "both"], var.github_subject_format)
    error_message = "github_subject_format must be \"name\", \"immutable\" or \"both\"."
  }

  validation {
    condition     = var.github_subject_format == "name" || (var.github.owner_id != null && var.github.repository_id != null)
    error_message = "github_subject_format \"immutable\" or \"both\" needs github.owner_id and github.repository_id (the numeric ids from GET /repos/{owner}/{repo})."
  }
}

variable "github_oidc_provider_arn" {
  description = "ARN of an existing token.actions.githubusercontent.com OIDC provider (one per account: set it when a second region or another stack already made it). Null creates it."
  type        = string
  default     = null
}

variable "key_administrator_role_name" {
  description = "Name of the role the environments' KMS key policies name as key administrator (key_administrator_arns in their tfvars). KMS refuses a key policy naming a role that does not exist, so it is made here, before them."
  type        = string
  default     = "payments-key-admin"
}

variable "key_administrator_trusted_principals" {
  description = "IAM principals allowed to assume the key administrator role: the people who manage keys, usually an IAM Identity Center permission set's role (arn:aws:iam::<account>:role/aws-reserved/sso.amazonaws.com/...). Not the deploy roles: administering a key is a separate duty (PCI DSS 3.6.1)."
  type        = list(string)

  validation {
    condition     = length(var.key_administrator_trusted_principals) > 0 && alltrue([for arn in var.key_administrator_trusted_principals : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/.+$", arn)) && !strcontains(arn, "*")])
    error_message = "key_administrator_trusted_principals must list at least one IAM role or user ARN, without wildcards."
  }
}

variable "state_noncurrent_version_days" {
  description = "Days a replaced state version is kept before it expires (the way back after a bad apply)."
  type        = number
  default     = 90

  validation {
    condition     = var.state_noncurrent_version_days >= 30
    error_message = "state_noncurrent_version_days must be at least 30: older state versions are the recovery path after a bad apply."
  }
}

variable "state_newer_noncurrent_versions" {
  description = "Noncurrent state versions always kept, however old (the last applies of a quiet environment)."
  type        = number
  default     = 20
}
