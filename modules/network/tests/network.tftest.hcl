# Unit tests: plan only, against a mocked AWS provider. They assert the network isolation of the
# cardholder data environment, the endpoint policies and the flow logs, and that unsafe inputs
# are refused.

mock_provider "aws" {
  override_during = plan

  override_data {
    target = data.aws_caller_identity.current
    values = {
      account_id = "111122223333"
    }
  }
  override_data {
    target = data.aws_partition.current
    values = {
      partition = "aws"
    }
  }
  override_data {
    target = data.aws_region.current
    values = {
      id   = "eu-west-1"
      name = "eu-west-1"
    }
  }
  override_data {
    target = data.aws_availability_zones.available
    values = {
      names = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    }
  }

  # Every service offers its endpoint in every zone unless a run says otherwise.
  mock_data "aws_vpc_endpoint_service" {
    defaults = {
      availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    }
  }

  mock_resource "aws_vpc" {
    defaults = {
      id = "vpc-0123456789abcdef0"
    }
  }
  mock_resource "aws_security_group" {
    defaults = {
      id = "sg-0123456789abcdef0"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/vpc/flow-logs/payments"
    }
  }
  mock_resource "aws_vpc_endpoint" {
    defaults = {
      prefix_list_id = "pl-0123456789"
    }
  }
}

variables {
  name        = "payments"
  kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/22222222-2222-2222-2222-222222222222"
}

# Each run starts the provider, so the properties that need no inputs of their own share one
# plan; each "---" heading is one property, and an assertion's error message names what failed.
run "the_network_with_the_defaults" {
  command = plan

  # --- private tiers without internet by default
  assert {
    condition     = length(aws_subnet.this) == 4 && toset([for s in aws_subnet.this : s.tags.Tier]) == toset(["application", "data"])
    error_message = "Defaults must create an application and a data subnet in each of 2 AZs, nothing else."
  }

  assert {
    condition     = toset([for s in aws_subnet.this : s.availability_zone]) == toset(["eu-west-1a", "eu-west-1b"])
    error_message = "Subnets must span the first az_count zones."
  }

  assert {
    condition     = alltrue([for s in aws_subnet.this : s.map_public_ip_on_launch == false])
    error_message = "No subnet may assign public IPs."
  }

  assert {
    condition     = length(aws_internet_gateway.this) == 0 && length(aws_nat_gateway.this) == 0 && length(aws_route.public_internet) == 0 && length(aws_route.egress_nat) == 0
    error_message = "No internet gateway, NAT gateway or internet route may exist unless egress is enabled."
  }

  assert {
    condition     = alltrue([for s in aws_subnet.this : s.tags.PCIScope == "cde" if s.tags.Tier == "data"])
    error_message = "Data-tier subnets must be tagged as the cardholder data environment."
  }

  # --- default security group has no rules
  assert {
    condition     = length(aws_default_security_group.this.ingress) == 0 && length(aws_default_security_group.this.egress) == 0
    error_message = "The default security group must have no ingress and no egress rules."
  }

  # --- lambda security group reaches endpoints only
  assert {
    condition     = aws_vpc_security_group_egress_rule.lambda_to_interface_endpoints.referenced_security_group_id == "sg-0123456789abcdef0" && aws_vpc_security_group_egress_rule.lambda_to_interface_endpoints.from_port == 443 && aws_vpc_security_group_egress_rule.lambda_to_interface_endpoints.to_port == 443 && aws_vpc_security_group_egress_rule.lambda_to_interface_endpoints.cidr_ipv4 == null
    error_message = "Lambda egress to the interface endpoints must be HTTPS to the endpoint security group only."
  }

  assert {
    condition     = toset(keys(aws_vpc_security_group_egress_rule.lambda_to_gateway_endpoints)) == toset(["s3", "dynamodb"]) && alltrue([for r in aws_vpc_security_group_egress_rule.lambda_to_gateway_endpoints : r.prefix_list_id == "pl-0123456789" && r.from_port == 443 && r.to_port == 443 && r.ip_protocol == "tcp" && r.cidr_ipv4 == null])
    error_message = "Lambda egress to S3 and DynamoDB must be HTTPS to the gateway endpoint prefix lists only."
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.endpoints_https.cidr_ipv4 == "10.0.0.0/16" && aws_vpc_security_group_ingress_rule.endpoints_https.from_port == 443
    error_message = "Interface endpoints must accept HTTPS from inside the VPC only."
  }

  # --- endpoints are private and account scoped
  assert {
    condition     = toset(keys(aws_vpc_endpoint.interface)) == toset(["kms", "sts", "logs", "states", "sync-states", "kinesis-streams", "events", "secretsmanager", "lambda"])
    error_message = "Interface endpoints must cover kms, sts, logs, states, sync-states, kinesis-streams, events, secretsmanager and lambda."
  }

  assert {
    condition     = alltrue([for service, e in aws_vpc_endpoint.interface : e.private_dns_enabled && e.vpc_endpoint_type == "Interface" && e.service_name == "com.amazonaws.eu-west-1.${service}"])
    error_message = "Interface endpoints must have private DNS on and the regional service name."
  }

  assert {
    condition     = toset(keys(aws_vpc_endpoint.gateway)) == toset(["s3", "dynamodb"]) && alltrue([for e in aws_vpc_endpoint.gateway : e.vpc_endpoint_type == "Gateway"]) && toset(keys(aws_route_table.private)) == toset(["application", "data"])
    error_message = "S3 and DynamoDB must be gateway endpoints (on the application and data route tables)."
  }

  assert {
    condition = alltrue([
      for e in concat(values(aws_vpc_endpoint.interface), values(aws_vpc_endpoint.gateway)) :
      jsondecode(e.policy).Statement[0].Condition.StringEquals["aws:PrincipalAccount"] == "111122223333" && length(jsondecode(e.policy).Statement) == 1
    ])
    error_message = "Every endpoint policy must admit this account's principals only."
  }

  assert {
    condition = alltrue([
      for e in concat(values(aws_vpc_endpoint.gateway), [aws_vpc_endpoint.interface["kms"], aws_vpc_endpoint.interface["secretsmanager"]]) :
      jsondecode(e.policy).Statement[0].Condition.StringEquals["aws:ResourceAccount"] == "111122223333"
    ])
    error_message = "Data endpoints (S3, DynamoDB, KMS, Secrets Manager) must reach this account's resources only."
  }

  # --- flow logs capture all traffic encrypted
  assert {
    condition     = aws_flow_log.this.traffic_type == "ALL" && aws_flow_log.this.log_destination_type == "cloud-watch-logs"
    error_message = "Flow logs must capture ALL traffic to CloudWatch Logs."
  }

  assert {
    condition     = aws_cloudwatch_log_group.flow_log.kms_key_id == var.kms_key_arn && aws_cloudwatch_log_group.flow_log.retention_in_days >= 365
    error_message = "The flow log group must be KMS-encrypted and retained for at least 365 days."
  }

  assert {
    condition     = jsondecode(aws_iam_role.flow_log.assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "111122223333"
    error_message = "Only this account's flow logs may assume the delivery role."
  }

  assert {
    condition = alltrue(flatten([
      for s in jsondecode(aws_iam_role_policy.flow_log.policy).Statement : [
        for r in s.Resource : startswith(r, "arn:aws:logs:eu-west-1:111122223333:log-group:")
      ]
    ]))
    error_message = "The flow log role may only touch this account's log groups, never \"*\"."
  }

  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.flow_log.policy).Statement : s if s.Sid == "WriteOwnLogGroup"]).Resource[0] == aws_cloudwatch_log_group.flow_log.arn
    error_message = "The flow log role may only write to its own log group."
  }
}

# Three zones, as both properties need; the zone override concerns the endpoints only, not the
# subnets.
run "three_azs_give_six_subnets_and_endpoints_go_only_into_zones_their_service_offers" {
  command = plan

  variables {
    az_count = 3
  }

  # --- three azs
  assert {
    condition     = length(aws_subnet.this) == 6 && length(toset([for s in aws_subnet.this : s.cidr_block])) == 6
    error_message = "Three AZs must give six distinct private subnets."
  }

  # --- endpoints go only into zones their service offers

  # As in us-east-1, where some services are missing from one zone (use1-az3).
  override_data {
    target          = data.aws_vpc_endpoint_service.interface["sync-states"]
    override_during = plan
    values          = { availability_zones = ["eu-west-1a", "eu-west-1c", "eu-west-1d"] }
  }

  # The subnets' ids are unknown in a plan; the zones they are picked by are not.
  assert {
    condition     = local.endpoint_azs["sync-states"] == ["eu-west-1a", "eu-west-1c"]
    error_message = "An endpoint must get subnets only in the platform's zones where its service is offered."
  }

  assert {
    condition     = local.endpoint_azs["kms"] == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    error_message = "A service offered in every zone must get a subnet in each."
  }
}

run "refuses_an_endpoint_service_in_none_of_the_zones" {
  command = plan

  override_data {
    target          = data.aws_vpc_endpoint_service.interface["kms"]
    override_during = plan
    values          = { availability_zones = ["eu-west-1c"] }
  }

  expect_failures = [aws_vpc_endpoint.interface["kms"]]
}

run "egress_is_opt_in_and_never_reaches_the_cde" {
  command = plan

  variables {
    egress = {
      enabled = true
    }
  }

  assert {
    condition     = length(aws_internet_gateway.this) == 1 && length(aws_nat_gateway.this) == 2
    error_message = "Egress must add an internet gateway and one NAT gateway per AZ."
  }

  assert {
    condition     = length([for s in aws_subnet.this : s if s.tags.Tier == "egress"]) == 2 && length([for s in aws_subnet.this : s if s.tags.Tier == "public"]) == 2
    error_message = "Egress must add an egress and a public subnet per AZ."
  }

  assert {
    condition     = alltrue([for key, a in aws_route_table_association.private : startswith(key, "application-") || startswith(key, "data-")]) && length(aws_route_table_association.private) == 4
    error_message = "Application and data subnets must stay on the private route tables."
  }

  assert {
    condition     = length(aws_route_table_association.egress) == 2 && length(aws_route_table_association.public) == 2
    error_message = "Only egress and public subnets may use the NAT and internet routes."
  }
}

run "single_nat_gateway" {
  command = plan

  variables {
    egress = {
      enabled            = true
      single_nat_gateway = true
    }
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 1 && length(aws_route.egress_nat) == 2
    error_message = "single_nat_gateway must create one NAT gateway shared by the egress route tables."
  }
}

run "explicit_availability_zones" {
  command = plan

  variables {
    az_count           = 3
    availability_zones = ["eu-west-1c", "eu-west-1a", "eu-west-1b"]
  }

  assert {
    condition     = toset([for s in aws_subnet.this : s.availability_zone]) == toset(["eu-west-1a", "eu-west-1b", "eu-west-1c"]) && contains(keys(aws_subnet.this), "data-eu-west-1c")
    error_message = "Explicit zones must be used for the subnets and the interface endpoints."
  }
}

# Unsafe inputs are refused. Each run starts the provider, so a run sets one refused value for
# each of several variables and expects each of them to fail (terraform test fails the run if
# any listed variable does not); the comment above each value names the rule it exercises.
run "unsafe_inputs_are_refused" {
  command = plan

  variables {
    # a short flow log retention is refused
    flow_log_retention_in_days = 90
    # unencrypted flow logs are refused
    kms_key_arn = ""
    # an oversized cidr is refused
    cidr_block = "10.0.0.0/8"
    # s3 as an interface endpoint is refused
    interface_endpoints = ["kms", "s3"]
    # a zone list not matching az_count is refused (two zones, but not distinct)
    availability_zones = ["eu-west-1a", "eu-west-1a"]
  }

  expect_failures = [
    var.flow_log_retention_in_days,
    var.kms_key_arn,
    var.cidr_block,
    var.interface_endpoints,
    var.availability_zones,
  ]
}

# Alone: the zone list's rule reads az_count, and a refused count would refuse that list for its
# length rather than for its repeated zone.
run "refuses_four_azs" {
  command = plan

  variables {
    az_count = 4
  }

  expect_failures = [var.az_count]
}
