# Replace with your organisation's values before the first apply.
account_id = "222222222222"
region     = "eu-west-1"
owner      = "payments-platform"
# environments/bootstrap makes this role (its key_administrator_role_arn output): KMS refuses
# key policies that name a role that does not exist yet.
key_administrator_arns = [
  "arn:aws:iam::222222222222:role/payments-key-admin",
]
detokenize_allowed_principals = [
  "arn:aws:iam::222222222222:role/payments-chargebacks",
]
# Who receives the security alarms (PCI DSS 10.2 events, function failures): required outside dev.
alarm_subscriptions = [
  { protocol = "email", endpoint = "payments-secops@example.com" },
]
# Merchants are onboarded in the registry, not here (no apply): an operator with write access
# to the <prefix>-merchants table runs `python -m local.cli merchant create --id <merchant>
# --table <prefix>-merchants --environment staging` with its AWS credentials (docs/decisions/0008).

# The environment's profile (README, "Environment profiles"; tests/unit/deploy checks that
# table against these values). Sized for 20 requests/s: 159 reserved concurrent executions.
az_count           = 2
log_retention_days = 400
capacity = {
  requests_per_second      = 20
  lambda_concurrency_quota = 1000
}
audit_object_lock = { mode = "COMPLIANCE", retention_days = 365 }
backup            = { enabled = false }

# SLO alarms (README "Operations"): staging rehearses releases, so its latency objective is
# prod's and its availability a little lower.
slo = { availability_percent = 99.5, latency_p99_ms = 3000 }
