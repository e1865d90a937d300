data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

# The zones are an allowlist by name (the given availability_zones, or the region's "a" to "f"
# zones), so the result is a closed set that does not change when AWS adds a zone.
data "aws_availability_zones" "available" {
  state = "available"

  filter {
    name   = "zone-name"
    values = var.availability_zones != null ? var.availability_zones : [for suffix in ["a", "b", "c", "d", "e", "f"] : "${data.aws_region.current.id}${suffix}"]
  }

  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }

  lifecycle {
    postcondition {
      condition     = length(self.names) >= var.az_count
      error_message = "Fewer than az_count of the requested availability zones are available in this region; set availability_zones explicitly."
    }
  }
}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id
  azs        = var.availability_zones != null ? var.availability_zones : slice(sort(data.aws_availability_zones.available.names), 0, var.az_count)

  # Each tier owns a block of 4 subnet slots (room for 3 AZs); /16 VPC -> /20 subnets.
  tier_offsets = {
    application = 0
    data        = 4
    egress      = 8
    public      = 12
  }
  # application: workloads (Lambda ENIs, interface endpoints). data: the cardholder data
  # environment (vault path). Neither has a route to the internet.
  subnet_tiers = concat(
    ["application", "data"],
    var.egress.enabled ? ["egress"] : [],
    local.public_tier ? ["public"] : [],
  )

  # az_count (2 or 3) leaves the fourth slot of every tier unused (3, 7, 11, 15). The
  # acquirer_egress tiers live in two of them, subdivided, so no existing subnet moves: slot 15
  # gives each acquirer subnet a quarter, /(prefix+6) (a /22 in a /16 VPC, a /28 in a /22);
  # slot 11 gives each firewall subnet a /28: all a firewall endpoint needs, and small enough
  # for three to fit into the /26 slot of a /22 VPC.
  acquirer_block = cidrsubnet(var.cidr_block, 4, 15)
  firewall_block = cidrsubnet(var.cidr_block, 4, 11)
  vpc_prefix     = tonumber(split("/", var.cidr_block)[1])

  subnets = merge(concat(
    [
      for tier in local.subnet_tiers : {
        for index, az in local.azs : "${tier}-${az}" => {
          tier = tier
          az   = az
          cidr = cidrsubnet(var.cidr_block, 4, local.tier_offsets[tier] + index)
        }
      }
    ],
    [
      {
        for index, az in local.azs : "acquirer-${az}" => {
          tier = "acquirer"
          az   = az
          cidr = cidrsubnet(local.acquirer_block, 2, index)
        } if local.acquirer_enabled
      },
      # Indexed by the zone's place among all zones, so going from single_nat_gateway to one
      # firewall per zone adds subnets without moving the first.
      {
        for index, az in local.azs : "firewall-${az}" => {
          tier = "firewall"
          az   = az
          cidr = cidrsubnet(local.firewall_block, 24 - local.vpc_prefix, index)
        } if contains(local.firewall_azs, az)
      },
    ],
  )...)

  tier_scope = {
    application = "cde-connected"
    data        = "cde"
    egress      = "out-of-scope"
    # The NAT gateways of the firewall path carry the acquirer traffic of the CDE functions.
    public   = local.acquirer_firewall ? "cde-connected" : "out-of-scope"
    acquirer = "cde-connected"
    # The firewall is the control that limits where the CDE's functions can connect.
    firewall = "cde-connected"
  }
}

resource "aws_vpc" "this" {
  cidr_block           = var.cidr_block
  enable_dns_support   = true
  enable_dns_hostnames = true # required by interface endpoints with private DNS

  tags = merge(var.tags, { Name = var.name })
}

# The default security group is the fallback for anything launched without one: it gets no
# rules at all, so such a resource can neither send nor receive (PCI DSS 1.2.1, 1.3.1).
resource "aws_default_security_group" "this" {
  vpc_id  = aws_vpc.this.id
  ingress = []
  egress  = []

  tags = merge(var.tags, { Name = "${var.name}-default-deny-all" })
}

resource "aws_subnet" "this" {
  for_each = local.subnets

  vpc_id                  = aws_vpc.this.id
  availability_zone       = each.value.az
  cidr_block              = each.value.cidr
  map_public_ip_on_launch = false

  tags = merge(var.tags, {
    Name     = "${var.name}-${each.key}"
    Tier     = each.value.tier
    PCIScope = local.tier_scope[each.value.tier]
  })
}

# One route table per private tier with only the local route and the gateway endpoints: no
# internet gateway or NAT route, so the CDE cannot reach or be reached from the internet.
resource "aws_route_table" "private" {
  for_each = toset(["application", "data"])

  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-${each.key}", Tier = each.key })
}

resource "aws_route_table_association" "private" {
  for_each = { for key, subnet in local.subnets : key => subnet if contains(["application", "data"], subnet.tier) }

  subnet_id      = aws_subnet.this[each.key].id
  route_table_id = aws_route_table.private[each.value.tier].id
}
