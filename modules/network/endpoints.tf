locals {
  private_route_table_ids = concat(
    [for rt in aws_route_table.private : rt.id],
    [for rt in aws_route_table.egress : rt.id],
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

resource "aws_vpc_endpoint" "interface" {
  for_each = toset(var.interface_endpoints)

  vpc_id              = aws_vpc.this.id
  service_name        = "com.amazonaws.${local.region}.${each.key}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = [for az in local.azs : aws_subnet.this["application-${az}"].id]
  security_group_ids  = [aws_security_group.endpoints.id]
  private_dns_enabled = true
  policy              = local.endpoint_policies[each.key]

  tags = merge(var.tags, { Name = "${var.name}-${each.key}" })
}
