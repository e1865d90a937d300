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
  description = "Public subnets holding the NAT gateways; empty unless egress.enabled."
  value       = [for key, subnet in aws_subnet.this : subnet.id if local.subnets[key].tier == "public"]
}

output "private_route_table_ids" {
  description = "Route table IDs of the application and data tiers (and egress tier when enabled)."
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
