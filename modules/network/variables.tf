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
