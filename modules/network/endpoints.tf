locals {
  # The acquirer tier's tables too: its functions reach S3 and DynamoDB through the gateway
  # endpoints, never through the firewall or the acquirer's endpoint.
  private_route_table_ids = concat(
    [for rt in aws_route_table.private : rt.id],
    [for rt in aws_route_table.egress : rt.id],
    [for rt in aws_route_table.acquirer : rt.id],
  )

  # Every endpoint only carries requests made by this account's principals; all but STS also
  # only to this account's resources (STS calls such as GetCallerIdentity have no resource
  # account). This stops the endpoints being used to move data to, or with credentials from,
  # another account (PCI DSS 1.3.2, 1.4.2).
  endpoint_policies = {
    for service in concat(var.interface_endpoints, ["s3", "dynamodb"]) : service => jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Sid       = "ThisAccountOnly"
        Effect    = "Allow"
        Principal = "*"
        Action    = "*"
        Resource  = "*"
        Condition = {
          StringEquals = service == "sts" ? {
            "aws:PrincipalAccount" = local.account_id
            } : {
            "aws:PrincipalAccount" = local.account_id
            "aws:ResourceAccount"  = local.account_id
          }
        }
      }]
    })
  }
}

resource "aws_vpc_endpoint" "gateway" {
  for_each = toset(["s3", "dynamodb"])

  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${local.region}.${each.key}"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = local.private_route_table_ids
  policy            = local.endpoint_policies[each.key]

  tags = merge(var.tags, { Name = "${var.name}-${each.key}" })
}

# Where each service offers its interface endpoint: not every service is in every zone (in
# us-east-1, use1-az3 lacks several), and an endpoint given a subnet in such a zone fails to
# create. Zone names map to different physical zones per account, so this is asked, not assumed.
data "aws_vpc_endpoint_service" "interface" {
  for_each = toset(var.interface_endpoints)

  service_name = "com.amazonaws.${local.region}.${each.key}"
  service_type = "Interface"
}

locals {
  # service => the platform's zones that service's endpoint can go into.
  endpoint_azs = {
    for service in var.interface_endpoints : service => [
      for az in local.azs : az if contains(data.aws_vpc_endpoint_service.interface[service].availability_zones, az)
    ]
  }
}

resource "aws_vpc_endpoint" "interface" {
  for_each = toset(var.interface_endpoints)

  vpc_id              = aws_vpc.this.id
  service_name        = "com.amazonaws.${local.region}.${each.key}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = [for az in local.endpoint_azs[each.key] : aws_subnet.this["application-${az}"].id]
  security_group_ids  = [aws_security_group.endpoints.id]
  private_dns_enabled = true
  policy              = local.endpoint_policies[each.key]

  tags = merge(var.tags, { Name = "${var.name}-${each.key}" })

  lifecycle {
    precondition {
      # Private DNS sends every call to the service through the endpoint, from every zone: one
      # zone is the least that works, and losing it then cuts the service off.
      condition     = length(local.endpoint_azs[each.key]) > 0
      error_message = "The ${each.key} endpoint service is in none of the platform's availability zones (${join(", ", local.azs)}); set availability_zones to zones it offers (aws ec2 describe-vpc-endpoint-services)."
    }
  }
}
