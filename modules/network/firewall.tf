# acquirer_egress.mode = "firewall" (docs/decisions/0010, option 2): the acquirer tier reaches
# the internet only through an AWS Network Firewall that passes TLS to the acquirer's host names
# and drops everything else, then a NAT gateway. Path out of zone Z:
#   acquirer-Z  --0.0.0.0/0-->  firewall endpoint (Z)  --0.0.0.0/0-->  NAT gateway in public-Z
#   --0.0.0.0/0-->  internet gateway;
# and back: NAT gateway --acquirer-Z's CIDR--> the same firewall endpoint --local--> acquirer-Z.
# With single_nat_gateway, Z is the first zone for every acquirer subnet.

locals {
  firewall_azs = local.acquirer_firewall ? (var.acquirer_egress.single_nat_gateway ? [local.azs[0]] : local.azs) : []

  # The zone of the firewall endpoint (and NAT gateway) each acquirer subnet's traffic uses.
  acquirer_firewall_az = { for az in local.azs : az => var.acquirer_egress.single_nat_gateway ? local.azs[0] : az }

  # Zone => firewall endpoint; AWS reports the endpoints only once the firewall exists.
  firewall_endpoint_ids = local.acquirer_firewall ? {
    for state in aws_networkfirewall_firewall.acquirer[0].firewall_status[0].sync_states :
    state.availability_zone => state.attachment[0].endpoint_id
  } : {}

  # Network Firewall writes a wildcard as a leading dot (".acquirer.example", which also matches
  # acquirer.example itself); the input keeps the "*." that reviewers recognise.
  firewall_domains = [for domain in var.acquirer_egress.allowed_domains : startswith(domain, "*.") ? substr(domain, 1, -1) : domain]

  # Under aws:drop_strict every packet no rule passes is dropped, the TCP handshake included,
  # so the SNI rules would never see a ClientHello. These pass the handshake of connections to
  # port 443 only (not_established): no packet that carries data, so the SNI decides the rest.
  firewall_handshake_rules = <<-EOT
    pass tcp $HOME_NET any -> $EXTERNAL_NET 443 (flow:not_established, to_server; msg:"acquirer egress: TCP handshake out"; sid:1000001; rev:1;)
    pass tcp $EXTERNAL_NET 443 -> $HOME_NET any (flow:not_established, to_client; msg:"acquirer egress: TCP handshake reply"; sid:1000002; rev:1;)
  EOT
}

resource "aws_networkfirewall_rule_group" "acquirer_handshake" {
  count = local.acquirer_firewall ? 1 : 0

  name        = "${var.name}-acquirer-handshake"
  description = "TCP handshakes to port 443, so that the acquirer domain allow-list can inspect TLS under a drop-strict policy"
  type        = "STATEFUL"
  capacity    = 10

  rule_group {
    rules_source {
      rules_string = local.firewall_handshake_rules
    }
    stateful_rule_options {
      rule_order = "STRICT_ORDER"
    }
  }

  encryption_configuration {
    type   = "CUSTOMER_KMS"
    key_id = var.kms_key_arn
  }

  tags = merge(var.tags, { Name = "${var.name}-acquirer-handshake" })
}

# TLS_SNI only: HTTP_HOST would also pass cleartext HTTP whose Host header names the acquirer,
# a path out of the CDE without encryption that the decision does not allow (PCI DSS 4.2.1).
resource "aws_networkfirewall_rule_group" "acquirer_domains" {
  count = local.acquirer_firewall ? 1 : 0

  name        = "${var.name}-acquirer-domains"
  description = "TLS to the acquirer's host names only"
  type        = "STATEFUL"
  # Fixed, because AWS cannot change a rule group's capacity once created: the 50 domains the
  # input allows, with room for a second target type.
  capacity = 100

  rule_group {
    rules_source {
      rules_source_list {
        generated_rules_type = "ALLOWLIST"
        target_types         = ["TLS_SNI"]
        targets              = local.firewall_domains
      }
    }
    stateful_rule_options {
      rule_order = "STRICT_ORDER"
    }
  }

  encryption_configuration {
    type   = "CUSTOMER_KMS"
    key_id = var.kms_key_arn
  }

  tags = merge(var.tags, { Name = "${var.name}-acquirer-domains" })
}

# Default deny: what the rule groups do not pass is dropped and logged as an alert (PCI DSS
# 1.3.2, 10.2). Every packet goes to the stateful engine; there are no stateless rules.
resource "aws_networkfirewall_firewall_policy" "acquirer" {
  count = local.acquirer_firewall ? 1 : 0

  name        = "${var.name}-acquirer"
  description = "Acquirer egress: the acquirer's host names over TLS, everything else dropped"

  firewall_policy {
    stateless_default_actions          = ["aws:forward_to_sfe"]
    stateless_fragment_default_actions = ["aws:forward_to_sfe"]
    stateful_default_actions           = ["aws:drop_strict", "aws:alert_strict"]

    stateful_engine_options {
      rule_order              = "STRICT_ORDER"
      stream_exception_policy = "DROP"
    }

    stateful_rule_group_reference {
      priority     = 100
      resource_arn = aws_networkfirewall_rule_group.acquirer_handshake[0].arn
    }

    stateful_rule_group_reference {
      priority     = 200
      resource_arn = aws_networkfirewall_rule_group.acquirer_domains[0].arn
    }
  }

  encryption_configuration {
    type   = "CUSTOMER_KMS"
    key_id = var.kms_key_arn
  }

  tags = merge(var.tags, { Name = "${var.name}-acquirer" })
}

# Deletion protection: removing the firewall removes the CDE's only control on where its
# functions connect, so it takes a deliberate step outside Terraform (README).
resource "aws_networkfirewall_firewall" "acquirer" {
  count = local.acquirer_firewall ? 1 : 0

  name                = "${var.name}-acquirer"
  description         = "Acquirer egress firewall of ${var.name}"
  vpc_id              = aws_vpc.this.id
  firewall_policy_arn = aws_networkfirewall_firewall_policy.acquirer[0].arn
  delete_protection   = true

  dynamic "subnet_mapping" {
    for_each = toset(local.firewall_azs)
    content {
      subnet_id = aws_subnet.this["firewall-${subnet_mapping.value}"].id
    }
  }

  encryption_configuration {
    type   = "CUSTOMER_KMS"
    key_id = var.kms_key_arn
  }

  tags = merge(var.tags, { Name = "${var.name}-acquirer" })
}

# Every dropped connection (ALERT) and every flow (FLOW), kept as long as the VPC flow logs
# (PCI DSS 10.2, 10.5.1). /aws/vendedlogs/ because Network Firewall delivers through CloudWatch
# Logs' vended-log delivery, whose resource policy covers that prefix with one statement rather
# than one per log group (a resource policy's size is limited).
resource "aws_cloudwatch_log_group" "acquirer_firewall" {
  for_each = toset(local.acquirer_firewall ? ["ALERT", "FLOW"] : [])

  name              = "/aws/vendedlogs/network-firewall/${var.name}-acquirer/${lower(each.key)}"
  retention_in_days = var.flow_log_retention_in_days
  kms_key_id        = var.kms_key_arn

  tags = var.tags
}

resource "aws_networkfirewall_logging_configuration" "acquirer" {
  count = local.acquirer_firewall ? 1 : 0

  firewall_arn = aws_networkfirewall_firewall.acquirer[0].arn

  logging_configuration {
    dynamic "log_destination_config" {
      for_each = aws_cloudwatch_log_group.acquirer_firewall
      content {
        log_type             = log_destination_config.key
        log_destination_type = "CloudWatchLogs"
        log_destination      = { logGroup = log_destination_config.value.name }
      }
    }
  }
}

# NAT gateways of their own rather than the egress tier's: their addresses are the ones the
# acquirer may allowlist, and no non-CDE component shares them.
resource "aws_eip" "acquirer_nat" {
  for_each = toset(local.firewall_azs)

  domain = "vpc"

  tags = merge(var.tags, { Name = "${var.name}-acquirer-nat-${each.key}" })

  depends_on = [aws_internet_gateway.this]
}

resource "aws_nat_gateway" "acquirer" {
  for_each = toset(local.firewall_azs)

  allocation_id = aws_eip.acquirer_nat[each.key].id
  subnet_id     = aws_subnet.this["public-${each.key}"].id

  tags = merge(var.tags, { Name = "${var.name}-acquirer-${each.key}" })
}

resource "aws_route_table" "firewall" {
  for_each = toset(local.firewall_azs)

  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-firewall-${each.key}", Tier = "firewall" })
}

resource "aws_route" "firewall_to_nat" {
  for_each = aws_route_table.firewall

  route_table_id         = each.value.id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.acquirer[each.key].id
}

resource "aws_route_table_association" "firewall" {
  for_each = { for key, subnet in local.subnets : key => subnet if subnet.tier == "firewall" }

  subnet_id      = aws_subnet.this[each.key].id
  route_table_id = aws_route_table.firewall[each.value.az].id
}

resource "aws_route" "acquirer_to_firewall" {
  for_each = { for az, table in aws_route_table.acquirer : az => table.id if local.acquirer_firewall }

  route_table_id         = each.value
  destination_cidr_block = "0.0.0.0/0"
  vpc_endpoint_id        = local.firewall_endpoint_ids[local.acquirer_firewall_az[each.key]]
}

# The replies: without these the NAT gateway would hand them to the acquirer subnet over the
# local route, past the firewall, which then sees one direction of each flow and drops it. The
# one public route table suffices: a route is chosen by the acquirer subnet it leads to, and
# each acquirer subnet's traffic leaves through one known endpoint (acquirer_firewall_az), the
# same whichever NAT gateway the reply comes from; per-zone public tables would only repeat it.
resource "aws_route" "public_to_acquirer" {
  for_each = { for key, subnet in local.subnets : subnet.az => subnet.cidr if subnet.tier == "acquirer" && local.acquirer_firewall }

  route_table_id         = aws_route_table.public[0].id
  destination_cidr_block = each.value
  vpc_endpoint_id        = local.firewall_endpoint_ids[local.acquirer_firewall_az[each.key]]
}
