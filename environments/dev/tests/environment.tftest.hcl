# Plans this environment with its committed terraform.tfvars against a mocked provider: the
# tfvars fit the variables, every module's validation accepts them, and the composition plans.
# The Lambda zip is a stand-in (this may run before make build).

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1", id = "eu-west-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111111111111" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_data "aws_availability_zones" {
    defaults = { names = ["eu-west-1a", "eu-west-1b", "eu-west-1c"], zone_ids = ["euw1-az1", "euw1-az2", "euw1-az3"] }
  }
  mock_data "aws_vpc_endpoint_service" {
    defaults = { availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"] }
  }
}

variables {
  lambda_package = "../../modules/platform/tests/fixtures/package.zip"
}

run "plans_with_its_tfvars" {
  command = plan

  assert {
    condition     = var.account_id == "111111111111"
    error_message = "The committed terraform.tfvars must be the ones planned."
  }

  assert {
    condition     = alltrue([for arn in var.key_administrator_arns : endswith(arn, ":role/payments-key-admin")])
    error_message = "The key administrators must be the role environments/bootstrap makes (key_administrator_role_name), or KMS refuses the key policies on a new account."
  }

  assert {
    # The figures README's "Environment profiles" table states for dev.
    condition     = output.capacity.reserved_concurrency_total == 60 && output.capacity.api_rate_limit_per_second == 10 && output.capacity.waf_rate_limit_per_5_minutes == 3000
    error_message = "dev's capacity must size 60 reserved executions, a stage of 10 requests/s and a WAF limit of 3000 per 5 minutes, as the README table says."
  }

  assert {
    # A plan reads each key administrator role, so a missing one stops it before any key.
    condition     = [for r in data.aws_iam_role.key_administrator : r.name] == ["payments-key-admin"]
    error_message = "The plan must look up the key administrator role the key policies name."
  }
}
