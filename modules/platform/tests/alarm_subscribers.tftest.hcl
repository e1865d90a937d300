# Unit tests: the security alarms need a subscriber outside dev and local, and the subscribers
# reach the audit module's alarm topic. Each run plans the whole platform against a mocked
# provider (about 30 s), so there are two.

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1", id = "eu-west-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111122223333" }
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
  name_prefix            = "payments-staging"
  environment            = "staging"
  key_administrator_arns = ["arn:aws:iam::111122223333:role/payments-key-admin"]
  lambda_package         = "tests/fixtures/package.zip" # a stand-in: tftest may run before make build
}

run "staging_without_a_subscriber_is_refused" {
  command = plan

  expect_failures = [var.alarm_subscriptions]
}

run "staging_with_a_subscriber_subscribes_it_to_the_alarm_topic" {
  command = plan

  variables {
    alarm_subscriptions = [{ protocol = "email", endpoint = "secops@example.com" }]
  }

  assert {
    condition     = module.audit.alarm_subscribers == ["email:secops@example.com"]
    error_message = "The subscribers must be subscribed to the audit module's alarm topic."
  }
}
