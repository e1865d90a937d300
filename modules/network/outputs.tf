output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "CIDR block of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "availability_zones" {
  description = "Availability zones the subnets span."
  value       = local.azs
}

output "application_subnet_ids" {
  description = "Private application-tier subnet IDs, one per AZ (no internet route). Pass to lambda_function vpc_config."
  value       = [for az in local.azs : aws_subnet.this["application-${az}"].id]
}

output "data_subnet_ids" {
  description = "Private data-tier (cardholder data environment) subnet IDs, one per AZ (no internet route)."
  value       = [for az in local.azs : aws_subnet.this["data-${az}"].id]
}

output "egress_subnet_ids" {
  description = "Private subnets with NAT egress for non-CDE components; empty unless egress.enabled."
  value       = [for key, subnet in aws_subnet.this : subnet.id if local.subnets[key].tier == "egress"]
}

output "public_subnet_ids" {
  description = "Public subnets holding the NAT gateways; empty unless egress.enabled or acquirer_egress.mode = \"firewall\"."
  value       = [for key, subnet in aws_subnet.this : subnet.id if local.subnets[key].tier == "public"]
}

output "private_route_table_ids" {
  description = "Route table IDs of the application and data tiers (and of the egress and acquirer tiers when enabled): the tables the S3 and DynamoDB gateway endpoints are on."
  value       = local.private_route_table_ids
}

output "lambda_security_group_id" {
  description = "Security group for Lambda functions: HTTPS egress to the VPC endpoints only. Pass to lambda_function vpc_config."
  value       = aws_security_group.lambda.id
}

output "endpoints_security_group_id" {
  description = "Security group of the interface VPC endpoints."
  value       = aws_security_group.endpoints.id
}

output "interface_endpoint_ids" {
  description = "Interface VPC endpoint ID by service."
  value       = { for service, endpoint in aws_vpc_endpoint.interface : service => endpoint.id }
}

output "gateway_endpoint_ids" {
  description = "Gateway VPC endpoint ID for s3 and dynamodb."
  value       = { for service, endpoint in aws_vpc_endpoint.gateway : service => endpoint.id }
}

output "gateway_prefix_list_ids" {
  description = "Managed prefix list ID for s3 and dynamodb (for security group rules)."
  value       = { for service, endpoint in aws_vpc_endpoint.gateway : service => endpoint.prefix_list_id }
}

output "nat_gateway_ids" {
  description = "NAT gateway IDs; empty unless egress.enabled."
  value       = [for nat in aws_nat_gateway.this : nat.id]
}

output "flow_log_id" {
  description = "ID of the VPC flow log."
  value       = aws_flow_log.this.id
}

output "flow_log_group_name" {
  description = "Name of the KMS-encrypted flow log group."
  value       = aws_cloudwatch_log_group.flow_log.name
}

output "acquirer_subnet_ids" {
  description = "Subnets of the acquirer tier, one per AZ, for the functions that call the acquirer (process_payment, settle) in place of the data subnets; empty when acquirer_egress.mode = \"none\"."
  value       = [for az in local.azs : aws_subnet.this["acquirer-${az}"].id if local.acquirer_enabled]
}

output "acquirer_security_group_id" {
  description = "Security group for the functions in the acquirer subnets (in place of lambda_security_group_id): HTTPS to the VPC endpoints and to the acquirer's path only, no ingress. Null when acquirer_egress.mode = \"none\"."
  value       = one(aws_security_group.acquirer[*].id)
}

output "acquirer_route_table_ids" {
  description = "Route table of each acquirer subnet by AZ: 0.0.0.0/0 to the firewall endpoint in firewall mode, no route out at all in privatelink mode; empty when acquirer_egress.mode = \"none\"."
  value       = { for az, table in aws_route_table.acquirer : az => table.id }
}

output "acquirer_endpoint_id" {
  description = "ID of the interface endpoint to the acquirer's endpoint service; null unless acquirer_egress.mode = \"privatelink\"."
  value       = one(aws_vpc_endpoint.acquirer[*].id)
}

output "acquirer_endpoint_dns_name" {
  description = "Regional DNS name of the acquirer's endpoint, for a connector that cannot use private_dns_name; null unless acquirer_egress.mode = \"privatelink\"."
  value       = one([for endpoint in aws_vpc_endpoint.acquirer : endpoint.dns_entry[0].dns_name])
}

output "acquirer_firewall_arn" {
  description = "ARN of the acquirer egress Network Firewall; null unless acquirer_egress.mode = \"firewall\"."
  value       = one(aws_networkfirewall_firewall.acquirer[*].arn)
}

output "acquirer_firewall_log_group_names" {
  description = "KMS-encrypted log groups of the acquirer firewall by log type (alert: dropped connections; flow: every flow); empty unless acquirer_egress.mode = \"firewall\"."
  value       = { for type, group in aws_cloudwatch_log_group.acquirer_firewall : lower(type) => group.name }
}

output "acquirer_nat_public_ips" {
  description = "Public addresses the acquirer sees firewall-mode connections come from (for its allowlist), one per firewall AZ; empty unless acquirer_egress.mode = \"firewall\"."
  value       = [for az in local.firewall_azs : aws_eip.acquirer_nat[az].public_ip]
}
