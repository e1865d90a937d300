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
      dns_entry = [{
        dns_name       = "vpce-0123456789abcdef0-abcdefgh.vpce-svc-0123456789abcdef0.eu-west-1.vpce.amazonaws.com"
        hosted_zone_id = "Z38GZ743OKFT7T"
      }]
    }
  }
  # Generated IDs, known in the plan, so that a test can tell which subnet, route table, NAT
  # gateway or rule group a reference names.
  mock_resource "aws_subnet" {}
  mock_resource "aws_route_table" {}
  mock_resource "aws_nat_gateway" {}
  mock_resource "aws_networkfirewall_rule_group" {
    defaults = {
      arn = "arn:aws:network-firewall:eu-west-1:111122223333:stateful-rulegroup/payments-acquirer-domains"
    }
  }
  # One firewall endpoint per zone, each with its own ID, so that a route to the wrong zone's
  # endpoint shows.
  mock_resource "aws_networkfirewall_firewall" {
    defaults = {
      arn = "arn:aws:network-firewall:eu-west-1:111122223333:firewall/payments-acquirer"
      firewall_status = [{
        sync_states = [
          for zone in ["a", "b", "c"] : {
            availability_zone = "eu-west-1${zone}"
            attachment        = [{ endpoint_id = "vpce-0f1e000000000000${zone}", subnet_id = "subnet-0f1e00000000000${zone}" }]
          }
        ]
      }]
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

  # --- no acquirer path by default, and the existing tiers where they were
  assert {
    condition = alltrue([
      for created in [
        aws_route_table.acquirer, aws_security_group.acquirer, aws_vpc_endpoint.acquirer, aws_route53_zone.acquirer,
        aws_networkfirewall_firewall.acquirer, aws_networkfirewall_rule_group.acquirer_domains, aws_cloudwatch_log_group.acquirer_firewall,
        aws_nat_gateway.acquirer, aws_route_table.firewall, aws_route.public_to_acquirer, aws_route_table.public,
      ] : length(created) == 0
    ])
    error_message = "acquirer_egress.mode = \"none\" must create no acquirer tier, endpoint, firewall, NAT gateway or public route table."
  }

  assert {
    condition = { for key, s in aws_subnet.this : key => s.cidr_block } == {
      "application-eu-west-1a" = "10.0.0.0/20"
      "application-eu-west-1b" = "10.0.16.0/20"
      "data-eu-west-1a"        = "10.0.64.0/20"
      "data-eu-west-1b"        = "10.0.80.0/20"
    }
    error_message = "The application and data subnets must keep their CIDRs, whatever the acquirer tiers take."
  }

  assert {
    condition     = length(local.private_route_table_ids) == 2 && output.acquirer_subnet_ids == [] && output.acquirer_security_group_id == null && output.acquirer_endpoint_id == null && output.acquirer_firewall_arn == null && output.acquirer_firewall_log_group_names == {} && output.acquirer_nat_public_ips == []
    error_message = "Without an acquirer path, the gateway endpoints stay on the application and data tables and the acquirer outputs are empty."
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

# The acquirer reached over PrivateLink: the endpoint in the acquirer subnets, reachable from the
# acquirer security group only, the acquirer's host name answered with it, and no route out.
run "acquirer_over_privatelink" {
  command = plan

  variables {
    acquirer_egress = {
      mode                  = "privatelink"
      endpoint_service_name = "com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0"
      private_dns_name      = "api.acquirer.example"
    }
  }

  # Every security group is the same mock ID otherwise, and these rules are about which is which.
  override_resource {
    target          = aws_security_group.acquirer
    override_during = plan
    values          = { id = "sg-0acacacacacacacac" }
  }
  override_resource {
    target          = aws_security_group.acquirer_endpoint
    override_during = plan
    values          = { id = "sg-0e0e0e0e0e0e0e0e0" }
  }

  # --- an acquirer tier in the unused slot, tagged cde-connected
  assert {
    condition = { for key, s in aws_subnet.this : key => s.cidr_block if s.tags.Tier == "acquirer" } == {
      "acquirer-eu-west-1a" = "10.0.240.0/22"
      "acquirer-eu-west-1b" = "10.0.244.0/22"
    }
    error_message = "The acquirer subnets must be the first quarters of the VPC's sixteenth slot, one per AZ."
  }

  assert {
    condition     = alltrue([for s in aws_subnet.this : s.tags.PCIScope == "cde-connected" && !s.map_public_ip_on_launch if s.tags.Tier == "acquirer"]) && length(aws_subnet.this) == 6
    error_message = "Acquirer subnets must be tagged cde-connected and assign no public IPs; privatelink adds no other subnet."
  }

  # --- the endpoint and its security group
  assert {
    condition     = aws_vpc_endpoint.acquirer[0].service_name == "com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0" && aws_vpc_endpoint.acquirer[0].vpc_endpoint_type == "Interface" && length(aws_vpc_endpoint.acquirer[0].subnet_ids) == 2 && aws_vpc_endpoint.acquirer[0].security_group_ids == toset(["sg-0e0e0e0e0e0e0e0e0"])
    error_message = "The acquirer endpoint must be an interface endpoint for the given service, in both acquirer subnets, with its own security group."
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.acquirer_endpoint_from_acquirer[0].security_group_id == "sg-0e0e0e0e0e0e0e0e0" && aws_vpc_security_group_ingress_rule.acquirer_endpoint_from_acquirer[0].referenced_security_group_id == "sg-0acacacacacacacac" && aws_vpc_security_group_ingress_rule.acquirer_endpoint_from_acquirer[0].from_port == 443 && aws_vpc_security_group_ingress_rule.acquirer_endpoint_from_acquirer[0].to_port == 443 && aws_vpc_security_group_ingress_rule.acquirer_endpoint_from_acquirer[0].cidr_ipv4 == null
    error_message = "The acquirer endpoint must admit HTTPS from the acquirer security group only."
  }

  assert {
    condition = (
      aws_vpc_security_group_egress_rule.acquirer_to_privatelink[0].security_group_id == "sg-0acacacacacacacac" && aws_vpc_security_group_egress_rule.acquirer_to_privatelink[0].referenced_security_group_id == "sg-0e0e0e0e0e0e0e0e0" && aws_vpc_security_group_egress_rule.acquirer_to_privatelink[0].from_port == 443 && aws_vpc_security_group_egress_rule.acquirer_to_privatelink[0].to_port == 443
      && aws_vpc_security_group_egress_rule.acquirer_to_interface_endpoints[0].referenced_security_group_id == "sg-0123456789abcdef0" && aws_vpc_security_group_egress_rule.acquirer_to_interface_endpoints[0].from_port == 443
      && toset(keys(aws_vpc_security_group_egress_rule.acquirer_to_gateway_endpoints)) == toset(["s3", "dynamodb"]) && alltrue([for r in aws_vpc_security_group_egress_rule.acquirer_to_gateway_endpoints : r.prefix_list_id == "pl-0123456789" && r.from_port == 443 && r.to_port == 443 && r.security_group_id == "sg-0acacacacacacacac"])
      && length(aws_vpc_security_group_egress_rule.acquirer_to_firewall) == 0
    )
    error_message = "The acquirer security group may send HTTPS to the acquirer endpoint, the interface endpoints and the gateway prefix lists, and nowhere else."
  }

  # --- no route out of the acquirer tier
  assert {
    condition = alltrue([
      for routes in [aws_route.acquirer_to_firewall, aws_route.public_to_acquirer, aws_route.firewall_to_nat, aws_route.public_internet, aws_route.egress_nat] : length(routes) == 0
    ]) && length(aws_internet_gateway.this) == 0 && length(aws_nat_gateway.acquirer) == 0 && length(aws_networkfirewall_firewall.acquirer) == 0
    error_message = "PrivateLink mode must add no route to 0.0.0.0/0, no internet gateway, NAT gateway or firewall."
  }

  assert {
    condition     = { for key, a in aws_route_table_association.acquirer : key => a.route_table_id } == { for az, table in aws_route_table.acquirer : "acquirer-${az}" => table.id } && alltrue([for table in aws_route_table.acquirer : contains(aws_vpc_endpoint.gateway["dynamodb"].route_table_ids, table.id)])
    error_message = "Each acquirer subnet must use its own acquirer route table, which carries the gateway endpoints."
  }

  # --- the acquirer's host name answered with the endpoint
  assert {
    condition     = aws_route53_zone.acquirer[0].name == "api.acquirer.example" && [for v in aws_route53_zone.acquirer[0].vpc : v.vpc_id] == ["vpc-0123456789abcdef0"] && aws_route53_record.acquirer[0].name == "api.acquirer.example" && one(aws_route53_record.acquirer[0].alias).name == aws_vpc_endpoint.acquirer[0].dns_entry[0].dns_name
    error_message = "private_dns_name must resolve to the acquirer endpoint, in a zone private to this VPC."
  }

  assert {
    condition     = output.acquirer_security_group_id == "sg-0acacacacacacacac" && length(output.acquirer_subnet_ids) == 2 && output.acquirer_endpoint_id == aws_vpc_endpoint.acquirer[0].id && output.acquirer_firewall_arn == null
    error_message = "The outputs must give the acquirer subnets, security group and endpoint."
  }
}

# The firewalled tier in three zones, the log retention set apart from its default to show it is
# the one used.
run "acquirer_through_the_firewall" {
  command = plan

  variables {
    az_count                   = 3
    flow_log_retention_in_days = 731
    acquirer_egress = {
      mode            = "firewall"
      allowed_domains = ["api.acquirer.example", "settlement.acquirer.example"]
    }
  }

  override_resource {
    target          = aws_security_group.acquirer
    override_during = plan
    values          = { id = "sg-0acacacacacacacac" }
  }
  # The two rule groups otherwise share the mock ARN, and the policy's order is about which is which.
  override_resource {
    target          = aws_networkfirewall_rule_group.acquirer_handshake
    override_during = plan
    values          = { arn = "arn:aws:network-firewall:eu-west-1:111122223333:stateful-rulegroup/payments-acquirer-handshake" }
  }

  # --- subnets carved from unused slots, the public tier without the egress tier
  assert {
    condition = { for key, s in aws_subnet.this : key => s.cidr_block if contains(["acquirer", "firewall"], s.tags.Tier) } == {
      "acquirer-eu-west-1a" = "10.0.240.0/22"
      "acquirer-eu-west-1b" = "10.0.244.0/22"
      "acquirer-eu-west-1c" = "10.0.248.0/22"
      "firewall-eu-west-1a" = "10.0.176.0/28"
      "firewall-eu-west-1b" = "10.0.176.16/28"
      "firewall-eu-west-1c" = "10.0.176.32/28"
    }
    error_message = "Acquirer subnets must take quarters of slot 15 and firewall subnets /28s of slot 11."
  }

  assert {
    condition     = length(aws_subnet.this) == 15 && length([for s in aws_subnet.this : s if s.tags.Tier == "egress"]) == 0 && alltrue([for s in aws_subnet.this : s.tags.PCIScope == "cde-connected" if contains(["acquirer", "firewall", "public"], s.tags.Tier)]) && length(aws_internet_gateway.this) == 1 && length(aws_nat_gateway.this) == 0
    error_message = "Firewall mode must add acquirer, firewall and public subnets (cde-connected) and an internet gateway, without the egress tier or its NAT gateways."
  }

  # --- the domain allow-list under strict order, drop by default
  assert {
    condition     = toset(aws_networkfirewall_rule_group.acquirer_domains[0].rule_group[0].rules_source[0].rules_source_list[0].targets) == toset(["api.acquirer.example", "settlement.acquirer.example"]) && aws_networkfirewall_rule_group.acquirer_domains[0].rule_group[0].rules_source[0].rules_source_list[0].generated_rules_type == "ALLOWLIST" && toset(aws_networkfirewall_rule_group.acquirer_domains[0].rule_group[0].rules_source[0].rules_source_list[0].target_types) == toset(["TLS_SNI"])
    error_message = "The rule group must allow TLS to exactly allowed_domains."
  }

  assert {
    condition = alltrue([
      for line in compact(split("\n", aws_networkfirewall_rule_group.acquirer_handshake[0].rule_group[0].rules_source[0].rules_string)) :
      startswith(line, "pass tcp ") && strcontains(line, "flow:not_established") && strcontains(line, " 443 ")
    ])
    error_message = "The handshake rule group may pass only TCP handshakes to and from port 443."
  }

  assert {
    condition = (
      aws_networkfirewall_firewall_policy.acquirer[0].firewall_policy[0].stateful_engine_options[0].rule_order == "STRICT_ORDER"
      && alltrue([for g in [aws_networkfirewall_rule_group.acquirer_domains[0], aws_networkfirewall_rule_group.acquirer_handshake[0]] : g.rule_group[0].stateful_rule_options[0].rule_order == "STRICT_ORDER"])
      && toset(aws_networkfirewall_firewall_policy.acquirer[0].firewall_policy[0].stateful_default_actions) == toset(["aws:drop_strict", "aws:alert_strict"])
      && toset(aws_networkfirewall_firewall_policy.acquirer[0].firewall_policy[0].stateless_default_actions) == toset(["aws:forward_to_sfe"])
      && toset(aws_networkfirewall_firewall_policy.acquirer[0].firewall_policy[0].stateless_fragment_default_actions) == toset(["aws:forward_to_sfe"])
    )
    error_message = "The policy must evaluate in strict order, send every packet to the stateful engine, and drop (and alert on) what no rule passes."
  }

  assert {
    condition     = [for r in sort([for r in aws_networkfirewall_firewall_policy.acquirer[0].firewall_policy[0].stateful_rule_group_reference : "${format("%05d", r.priority)} ${r.resource_arn}"]) : split(" ", r)[1]] == [aws_networkfirewall_rule_group.acquirer_handshake[0].arn, aws_networkfirewall_rule_group.acquirer_domains[0].arn]
    error_message = "The policy must hold the handshake rule group, then the domain allow-list, and nothing else."
  }

  # --- encrypted, logged, kept
  assert {
    condition = alltrue([
      for e in [aws_networkfirewall_firewall.acquirer[0], aws_networkfirewall_firewall_policy.acquirer[0], aws_networkfirewall_rule_group.acquirer_domains[0], aws_networkfirewall_rule_group.acquirer_handshake[0]] :
      e.encryption_configuration[0].type == "CUSTOMER_KMS" && e.encryption_configuration[0].key_id == var.kms_key_arn
    ]) && aws_networkfirewall_firewall.acquirer[0].delete_protection
    error_message = "The firewall, its policy and rule groups must be encrypted with kms_key_arn, and the firewall protected from deletion."
  }

  assert {
    condition     = { for c in aws_networkfirewall_logging_configuration.acquirer[0].logging_configuration[0].log_destination_config : c.log_type => [c.log_destination_type, c.log_destination.logGroup] } == { for type, group in aws_cloudwatch_log_group.acquirer_firewall : type => ["CloudWatchLogs", group.name] } && toset(keys(aws_cloudwatch_log_group.acquirer_firewall)) == toset(["ALERT", "FLOW"])
    error_message = "The firewall must send its ALERT and FLOW logs each to its own log group."
  }

  assert {
    condition     = alltrue([for group in aws_cloudwatch_log_group.acquirer_firewall : group.kms_key_id == var.kms_key_arn && group.retention_in_days == 731])
    error_message = "The firewall log groups must be encrypted with kms_key_arn and kept flow_log_retention_in_days."
  }

  # --- routes: acquirer -> firewall of its zone -> NAT of that zone; replies back through the firewall
  assert {
    condition     = toset([for m in aws_networkfirewall_firewall.acquirer[0].subnet_mapping : m.subnet_id]) == toset([for az in ["eu-west-1a", "eu-west-1b", "eu-west-1c"] : aws_subnet.this["firewall-${az}"].id])
    error_message = "The firewall must have an endpoint in each zone's firewall subnet."
  }

  assert {
    condition = { for az, r in aws_route.acquirer_to_firewall : az => [r.route_table_id, r.destination_cidr_block, r.vpc_endpoint_id] } == {
      for zone in ["a", "b", "c"] : "eu-west-1${zone}" => [aws_route_table.acquirer["eu-west-1${zone}"].id, "0.0.0.0/0", "vpce-0f1e000000000000${zone}"]
    }
    error_message = "Each acquirer route table must send 0.0.0.0/0 to the firewall endpoint of its own zone."
  }

  assert {
    condition     = { for az, r in aws_route.firewall_to_nat : az => [r.route_table_id, r.destination_cidr_block, r.nat_gateway_id] } == { for az, nat in aws_nat_gateway.acquirer : az => [aws_route_table.firewall[az].id, "0.0.0.0/0", nat.id] } && alltrue([for az, nat in aws_nat_gateway.acquirer : nat.subnet_id == aws_subnet.this["public-${az}"].id]) && length(aws_nat_gateway.acquirer) == 3
    error_message = "Each firewall subnet must route 0.0.0.0/0 to the NAT gateway in the public subnet of its zone."
  }

  assert {
    condition = { for az, r in aws_route.public_to_acquirer : az => [r.route_table_id, r.destination_cidr_block, r.vpc_endpoint_id] } == {
      for zone in ["a", "b", "c"] : "eu-west-1${zone}" => [aws_route_table.public[0].id, aws_subnet.this["acquirer-eu-west-1${zone}"].cidr_block, "vpce-0f1e000000000000${zone}"]
    }
    error_message = "The public route table must return each acquirer subnet's traffic through the firewall endpoint that subnet sends through."
  }

  assert {
    condition     = aws_vpc_security_group_egress_rule.acquirer_to_firewall[0].security_group_id == "sg-0acacacacacacacac" && aws_vpc_security_group_egress_rule.acquirer_to_firewall[0].cidr_ipv4 == "0.0.0.0/0" && aws_vpc_security_group_egress_rule.acquirer_to_firewall[0].from_port == 443 && aws_vpc_security_group_egress_rule.acquirer_to_firewall[0].to_port == 443 && aws_vpc_security_group_egress_rule.acquirer_to_firewall[0].ip_protocol == "tcp" && length(aws_vpc_security_group_egress_rule.acquirer_to_privatelink) == 0 && length(aws_vpc_endpoint.acquirer) == 0
    error_message = "In firewall mode the acquirer security group may send HTTPS only out (to the firewall), not to a PrivateLink endpoint."
  }

  assert {
    condition     = length(aws_route_table_association.private) == 6 && alltrue([for key, a in aws_route_table_association.private : startswith(key, "application-") || startswith(key, "data-")])
    error_message = "The application and data subnets must stay on the route tables without a way out."
  }

  assert {
    condition     = output.acquirer_firewall_arn == aws_networkfirewall_firewall.acquirer[0].arn && output.acquirer_firewall_log_group_names == { alert = "/aws/vendedlogs/network-firewall/payments-acquirer/alert", flow = "/aws/vendedlogs/network-firewall/payments-acquirer/flow" } && length(output.acquirer_nat_public_ips) == 3 && length(output.acquirer_subnet_ids) == 3
    error_message = "The outputs must give the firewall, its log groups, the NAT addresses and the acquirer subnets."
  }
}

# One firewall and NAT gateway, in the first zone, for every acquirer subnet; with a wildcard
# asked for, written the way Network Firewall reads it.
run "acquirer_firewall_in_one_zone" {
  command = plan

  variables {
    acquirer_egress = {
      mode                   = "firewall"
      allowed_domains        = ["*.acquirer.example"]
      allow_wildcard_domains = true
      single_nat_gateway     = true
    }
  }

  assert {
    condition     = [for key, s in aws_subnet.this : key if s.tags.Tier == "firewall"] == ["firewall-eu-west-1a"] && length(aws_networkfirewall_firewall.acquirer[0].subnet_mapping) == 1 && keys(aws_nat_gateway.acquirer) == ["eu-west-1a"] && keys(aws_route.firewall_to_nat) == ["eu-west-1a"]
    error_message = "single_nat_gateway must give the firewall and the NAT gateway the first zone only."
  }

  assert {
    condition     = { for az, r in aws_route.acquirer_to_firewall : az => r.vpc_endpoint_id } == { "eu-west-1a" = "vpce-0f1e000000000000a", "eu-west-1b" = "vpce-0f1e000000000000a" } && { for az, r in aws_route.public_to_acquirer : az => r.vpc_endpoint_id } == { "eu-west-1a" = "vpce-0f1e000000000000a", "eu-west-1b" = "vpce-0f1e000000000000a" }
    error_message = "With one firewall zone, both acquirer subnets must go out and come back through its endpoint."
  }

  assert {
    condition     = aws_networkfirewall_rule_group.acquirer_domains[0].rule_group[0].rules_source[0].rules_source_list[0].targets == toset([".acquirer.example"])
    error_message = "An allowed wildcard must reach the firewall as its leading-dot form."
  }
}

# Refusals of acquirer_egress: one run each, since they are values of one variable.
run "refuses_privatelink_without_an_endpoint_service" {
  command = plan

  variables {
    acquirer_egress = { mode = "privatelink" }
  }

  expect_failures = [var.acquirer_egress]
}

run "refuses_a_wildcard_domain_not_asked_for" {
  command = plan

  variables {
    acquirer_egress = { mode = "firewall", allowed_domains = ["*.acquirer.example"] }
  }

  expect_failures = [var.acquirer_egress]
}

run "refuses_a_firewall_without_domains" {
  command = plan

  variables {
    acquirer_egress = { mode = "firewall" }
  }

  expect_failures = [var.acquirer_egress]
}

run "refuses_an_unknown_acquirer_egress_mode" {
  command = plan

  variables {
    acquirer_egress = { mode = "direct" }
  }

  expect_failures = [var.acquirer_egress]
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
