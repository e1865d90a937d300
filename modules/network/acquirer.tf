# The path to the card acquirer (acquirer_egress, docs/decisions/0010): a tier of its own for the
# functions that call the acquirer, so the application and data tiers keep having no way out at
# all, and so only the acquirer's security group and route tables have one. This file holds the
# tier and the PrivateLink mode; firewall.tf holds the firewall mode.

locals {
  acquirer_enabled     = var.acquirer_egress.mode != "none"
  acquirer_privatelink = var.acquirer_egress.mode == "privatelink"
  acquirer_firewall    = var.acquirer_egress.mode == "firewall"

  # Lowercase, at least two labels, no wildcard: what the acquirer's certificate names.
  host_name_pattern = "^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"
}

# Each zone's table is its own so that, in firewall mode, each sends 0.0.0.0/0 to the firewall
# endpoint of its zone; privatelink mode keeps the same tables (no route beyond the local one
# and the gateway endpoints) so that switching modes does not replace them.
resource "aws_route_table" "acquirer" {
  for_each = local.acquirer_enabled ? toset(local.azs) : toset([])

  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-acquirer-${each.key}", Tier = "acquirer" })
}

resource "aws_route_table_association" "acquirer" {
  for_each = { for key, subnet in local.subnets : key => subnet if subnet.tier == "acquirer" }

  subnet_id      = aws_subnet.this[each.key].id
  route_table_id = aws_route_table.acquirer[each.value.az].id
}

# For the functions in the acquirer tier, in place of the Lambda security group: the same access
# to the VPC endpoints, plus HTTPS to the acquirer's path. No ingress.
resource "aws_security_group" "acquirer" {
  #checkov:skip=CKV2_AWS_5:Attached by callers: the functions that call the acquirer pass it in the lambda_function module's vpc_config.security_group_ids.
  count = local.acquirer_enabled ? 1 : 0

  name        = "${var.name}-acquirer"
  description = "Functions calling the acquirer: HTTPS egress to the acquirer path and the VPC endpoints only"
  vpc_id      = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-acquirer" })
}

# The endpoint security group's ingress (HTTPS from the VPC CIDR) already admits this group, as
# it admits every workload of the VPC; a rule naming the group would add nothing.
resource "aws_vpc_security_group_egress_rule" "acquirer_to_interface_endpoints" {
  count = local.acquirer_enabled ? 1 : 0

  security_group_id            = aws_security_group.acquirer[0].id
  description                  = "HTTPS to the interface VPC endpoints"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.endpoints.id

  tags = var.tags
}

resource "aws_vpc_security_group_egress_rule" "acquirer_to_gateway_endpoints" {
  for_each = { for service, endpoint in aws_vpc_endpoint.gateway : service => endpoint.prefix_list_id if local.acquirer_enabled }

  security_group_id = aws_security_group.acquirer[0].id
  description       = "HTTPS to ${each.key} through its gateway endpoint"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = each.value

  tags = var.tags
}

resource "aws_vpc_security_group_egress_rule" "acquirer_to_privatelink" {
  count = local.acquirer_privatelink ? 1 : 0

  security_group_id            = aws_security_group.acquirer[0].id
  description                  = "HTTPS to the acquirer's PrivateLink endpoint"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.acquirer_endpoint[0].id

  tags = var.tags
}

# Any address, because the acquirer's addresses are not ours to know or pin: the firewall on the
# route decides by host name, and drops what is not the acquirer's.
resource "aws_vpc_security_group_egress_rule" "acquirer_to_firewall" {
  count = local.acquirer_firewall ? 1 : 0

  security_group_id = aws_security_group.acquirer[0].id
  description       = "HTTPS out through the acquirer firewall (domain allow-list)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"

  tags = var.tags
}

# --- privatelink

# Which of the platform's zones the acquirer's service is offered in: a subnet in any other zone
# makes the endpoint fail to create. It also fails the plan early when this account cannot see
# the service (not yet allowed as a consumer).
data "aws_vpc_endpoint_service" "acquirer" {
  count = local.acquirer_privatelink ? 1 : 0

  service_name = var.acquirer_egress.endpoint_service_name
  service_type = "Interface"
}

locals {
  acquirer_endpoint_azs = local.acquirer_privatelink ? [
    for az in local.azs : az if contains(data.aws_vpc_endpoint_service.acquirer[0].availability_zones, az)
  ] : []
}

resource "aws_security_group" "acquirer_endpoint" {
  count = local.acquirer_privatelink ? 1 : 0

  name        = "${var.name}-acquirer-endpoint"
  description = "Acquirer PrivateLink endpoint: HTTPS from the acquirer security group only"
  vpc_id      = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-acquirer-endpoint" })
}

resource "aws_vpc_security_group_ingress_rule" "acquirer_endpoint_from_acquirer" {
  count = local.acquirer_privatelink ? 1 : 0

  security_group_id            = aws_security_group.acquirer_endpoint[0].id
  description                  = "HTTPS from the functions that call the acquirer"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.acquirer[0].id

  tags = var.tags
}

# No endpoint policy: the acquirer's service does not authorize with IAM, so a policy would have
# nothing to act on; who may connect is the security group's to say.
resource "aws_vpc_endpoint" "acquirer" {
  count = local.acquirer_privatelink ? 1 : 0

  vpc_id             = aws_vpc.this.id
  service_name       = var.acquirer_egress.endpoint_service_name
  vpc_endpoint_type  = "Interface"
  subnet_ids         = [for az in local.acquirer_endpoint_azs : aws_subnet.this["acquirer-${az}"].id]
  security_group_ids = [aws_security_group.acquirer_endpoint[0].id]
  # Off: AWS's private DNS needs the acquirer to have set and verified a name on its service,
  # which many have not, and the endpoint fails to create without it. The hosted zone below
  # works either way.
  private_dns_enabled = false

  tags = merge(var.tags, { Name = "${var.name}-acquirer" })

  lifecycle {
    precondition {
      condition     = length(local.acquirer_endpoint_azs) > 0
      error_message = "The acquirer's endpoint service ${var.acquirer_egress.endpoint_service_name} is offered in none of the platform's availability zones (${join(", ", local.azs)}); ask the acquirer for these zones or set availability_zones."
    }
  }
}

# The acquirer's host name answered with the endpoint's addresses, inside this VPC only: the
# connector keeps calling the name on the acquirer's certificate, so TLS verification holds. The
# zone is that one name, not its parent domain, so no other host of the acquirer's domain is
# shadowed.
resource "aws_route53_zone" "acquirer" {
  count = local.acquirer_privatelink && var.acquirer_egress.private_dns_name != null ? 1 : 0

  name    = var.acquirer_egress.private_dns_name
  comment = "The acquirer's host name, resolved to its PrivateLink endpoint inside ${var.name}"

  vpc {
    vpc_id = aws_vpc.this.id
  }

  tags = merge(var.tags, { Name = "${var.name}-acquirer" })
}

resource "aws_route53_record" "acquirer" {
  count = length(aws_route53_zone.acquirer)

  zone_id = aws_route53_zone.acquirer[0].zone_id
  name    = var.acquirer_egress.private_dns_name
  type    = "A"

  alias {
    name                   = aws_vpc_endpoint.acquirer[0].dns_entry[0].dns_name
    zone_id                = aws_vpc_endpoint.acquirer[0].dns_entry[0].hosted_zone_id
    evaluate_target_health = false
  }
}
