# Optional internet egress for non-CDE components (egress.enabled = true). The application and
# data tiers are never associated with these route tables. The public tier (subnets, internet
# gateway, route table) also serves acquirer_egress.mode = "firewall", whose NAT gateways live
# in it, without the egress tier being turned on.

locals {
  nat_azs     = var.egress.enabled ? (var.egress.single_nat_gateway ? [local.azs[0]] : local.azs) : []
  public_tier = var.egress.enabled || local.acquirer_firewall
}

resource "aws_internet_gateway" "this" {
  count = local.public_tier ? 1 : 0

  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = var.name })
}

resource "aws_route_table" "public" {
  count = local.public_tier ? 1 : 0

  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-public", Tier = "public" })
}

resource "aws_route" "public_internet" {
  count = local.public_tier ? 1 : 0

  route_table_id         = aws_route_table.public[0].id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this[0].id
}

resource "aws_route_table_association" "public" {
  for_each = { for key, subnet in local.subnets : key => subnet if subnet.tier == "public" }

  subnet_id      = aws_subnet.this[each.key].id
  route_table_id = aws_route_table.public[0].id
}

resource "aws_eip" "nat" {
  for_each = toset(local.nat_azs)

  domain = "vpc"

  tags = merge(var.tags, { Name = "${var.name}-nat-${each.key}" })

  depends_on = [aws_internet_gateway.this]
}

resource "aws_nat_gateway" "this" {
  for_each = toset(local.nat_azs)

  allocation_id = aws_eip.nat[each.key].id
  subnet_id     = aws_subnet.this["public-${each.key}"].id

  tags = merge(var.tags, { Name = "${var.name}-${each.key}" })
}

resource "aws_route_table" "egress" {
  for_each = var.egress.enabled ? toset(local.azs) : toset([])

  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-egress-${each.key}", Tier = "egress" })
}

resource "aws_route" "egress_nat" {
  for_each = aws_route_table.egress

  route_table_id         = each.value.id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[var.egress.single_nat_gateway ? local.azs[0] : each.key].id
}

resource "aws_route_table_association" "egress" {
  for_each = { for key, subnet in local.subnets : key => subnet if subnet.tier == "egress" }

  subnet_id      = aws_subnet.this[each.key].id
  route_table_id = aws_route_table.egress[each.value.az].id
}
