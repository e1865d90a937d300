variable "name" {
  description = "Name prefix for every resource (VPC, subnets, security groups, flow log)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$", var.name))
    error_message = "name must be 3-40 lowercase letters, digits or '-', not starting or ending with '-'."
  }
}

variable "cidr_block" {
  description = "IPv4 CIDR of the VPC. Each tier gets one /(prefix+4) subnet per AZ."
  type        = string
  default     = "10.0.0.0/16"

  validation {
    condition     = can(cidrhost(var.cidr_block, 0)) && try(tonumber(split("/", var.cidr_block)[1]) >= 16 && tonumber(split("/", var.cidr_block)[1]) <= 22, false)
    error_message = "cidr_block must be a valid IPv4 CIDR with a prefix length between /16 and /22."
  }
}

variable "az_count" {
  description = "Number of availability zones (2 or 3). Production should use 3."
  type        = number
  default     = 2

  validation {
    condition     = contains([2, 3], var.az_count)
    error_message = "az_count must be 2 or 3."
  }
}

variable "availability_zones" {
  description = "Explicit availability zone names; by default the first az_count zones of the region that need no opt-in."
  type        = list(string)
  default     = null

  validation {
    condition     = var.availability_zones == null ? true : length(var.availability_zones) == var.az_count && length(distinct(var.availability_zones)) == var.az_count
    error_message = "availability_zones, when set, must hold az_count distinct zone names."
  }
}

variable "egress" {
  description = <<-EOT
    Internet egress for NON-CDE components only: public subnets with an internet gateway and NAT
    gateways, plus an "egress" private subnet tier that routes 0.0.0.0/0 through NAT. Off by
    default; the application and data (CDE) tiers never get a route to the internet either way.
    single_nat_gateway trades AZ resilience for cost.
  EOT
  type = object({
    enabled            = optional(bool, false)
    single_nat_gateway = optional(bool, false)
  })
  default = {}
}

variable "acquirer_egress" {
  description = <<-EOT
    The path from the functions that call the card acquirer to the acquirer
    (docs/decisions/0010). mode = "none" (the default) creates nothing. Either other mode adds
    an "acquirer" private subnet tier (one subnet per AZ, PCIScope = cde-connected) and a
    security group for those functions (HTTPS out, no ingress), and behind it:
    "privatelink": an interface endpoint for the acquirer's endpoint service
    endpoint_service_name (com.amazonaws.vpce.<region>.vpce-svc-...), reached on 443 from that
    security group only, with no route to the internet; private_dns_name, when set, is the
    acquirer's host name, answered inside this VPC with the endpoint's addresses.
    "firewall": an AWS Network Firewall that passes TLS only to allowed_domains (exact host
    names; "*.example.com" only with allow_wildcard_domains) and drops everything else, then a
    NAT gateway per firewall AZ in public subnets (created without the non-CDE egress tier);
    single_nat_gateway puts the firewall and the NAT gateway in the first AZ only, trading
    resilience for cost. A field of the other mode is refused, not ignored.
  EOT
  type = object({
    mode                   = optional(string, "none")
    endpoint_service_name  = optional(string)
    private_dns_name       = optional(string)
    allowed_domains        = optional(list(string), [])
    allow_wildcard_domains = optional(bool, false)
    single_nat_gateway     = optional(bool, false)
  })
  default  = {}
  nullable = false

  validation {
    condition     = contains(["none", "privatelink", "firewall"], var.acquirer_egress.mode)
    error_message = "acquirer_egress.mode must be \"none\", \"privatelink\" or \"firewall\"."
  }

  validation {
    condition     = var.acquirer_egress.mode != "privatelink" || var.acquirer_egress.endpoint_service_name != null
    error_message = "acquirer_egress.mode = \"privatelink\" needs endpoint_service_name, the acquirer's endpoint service (com.amazonaws.vpce.<region>.vpce-svc-...)."
  }

  validation {
    condition     = var.acquirer_egress.endpoint_service_name == null || can(regex("^com\\.amazonaws\\.vpce\\.[a-z0-9-]+\\.vpce-svc-[0-9a-f]{8,17}$", var.acquirer_egress.endpoint_service_name))
    error_message = "acquirer_egress.endpoint_service_name must be an endpoint service name such as com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0 (AWS services belong in interface_endpoints)."
  }

  validation {
    condition     = var.acquirer_egress.mode == "privatelink" || (var.acquirer_egress.endpoint_service_name == null && var.acquirer_egress.private_dns_name == null)
    error_message = "acquirer_egress.endpoint_service_name and private_dns_name apply to mode = \"privatelink\" only."
  }

  # One name, no wildcard: the zone answers for exactly the host the connector calls.
  validation {
    condition     = var.acquirer_egress.private_dns_name == null || can(regex(local.host_name_pattern, var.acquirer_egress.private_dns_name))
    error_message = "acquirer_egress.private_dns_name must be the acquirer's host name in lowercase, such as api.acquirer.example, without a wildcard."
  }

  # 50 keeps the domain rule group inside the capacity it is created with, which AWS cannot
  # change afterwards.
  validation {
    condition     = var.acquirer_egress.mode != "firewall" || (length(var.acquirer_egress.allowed_domains) > 0 && length(var.acquirer_egress.allowed_domains) <= 50)
    error_message = "acquirer_egress.mode = \"firewall\" needs allowed_domains: the acquirer's host names, 1 to 50 of them; with none the firewall would only ever drop."
  }

  validation {
    condition     = var.acquirer_egress.mode == "firewall" || (length(var.acquirer_egress.allowed_domains) == 0 && !var.acquirer_egress.allow_wildcard_domains && !var.acquirer_egress.single_nat_gateway)
    error_message = "acquirer_egress.allowed_domains, allow_wildcard_domains and single_nat_gateway apply to mode = \"firewall\" only."
  }

  # A wildcard lets a compromised function reach every host under the domain, not just the
  # acquirer's API, so it must be asked for; "*" alone (any host) is never accepted.
  validation {
    condition = length(distinct(var.acquirer_egress.allowed_domains)) == length(var.acquirer_egress.allowed_domains) && alltrue([
      for domain in var.acquirer_egress.allowed_domains :
      can(regex(local.host_name_pattern, domain)) || (var.acquirer_egress.allow_wildcard_domains && startswith(domain, "*.") && can(regex(local.host_name_pattern, substr(domain, 2, -1))))
    ])
    error_message = "acquirer_egress.allowed_domains must be distinct lowercase host names such as api.acquirer.example; a wildcard (*.acquirer.example, never \"*\" alone) needs allow_wildcard_domains = true."
  }
}

variable "interface_endpoints" {
  description = "AWS services reached through interface VPC endpoints (private DNS on), as the last part of com.amazonaws.<region>.<service>."
  type        = list(string)
  default     = ["kms", "sts", "logs", "states", "sync-states", "kinesis-streams", "events", "secretsmanager", "lambda"]

  validation {
    condition     = alltrue([for s in var.interface_endpoints : can(regex("^[a-z0-9][a-z0-9.-]*$", s))]) && length(distinct(var.interface_endpoints)) == length(var.interface_endpoints)
    error_message = "interface_endpoints must be distinct service names such as \"kms\" or \"kinesis-streams\"."
  }

  validation {
    condition     = length(setintersection(toset(var.interface_endpoints), toset(["s3", "dynamodb"]))) == 0
    error_message = "s3 and dynamodb are always gateway endpoints; do not list them as interface endpoints."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key ARN for the flow log group (the kms module's logs key, whose policy admits logs.<region>.amazonaws.com)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "flow_log_retention_in_days" {
  description = "Retention of the VPC flow log group; PCI DSS 10.5.1 needs at least one year."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_log_retention_in_days)
    error_message = "flow_log_retention_in_days must be a CloudWatch Logs retention value of at least 365 days (365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "flow_log_max_aggregation_interval" {
  description = "Flow log aggregation interval in seconds (60 or 600)."
  type        = number
  default     = 60

  validation {
    condition     = contains([60, 600], var.flow_log_max_aggregation_interval)
    error_message = "flow_log_max_aggregation_interval must be 60 or 600 seconds."
  }
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}
