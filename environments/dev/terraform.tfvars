# Replace with your organisation's values before the first apply.
account_id = "111111111111"
region     = "eu-west-1"
owner      = "payments-platform"
# environments/bootstrap makes this role (its key_administrator_role_arn output): KMS refuses
# key policies that name a role that does not exist yet.
key_administrator_arns = [
  "arn:aws:iam::111111111111:role/payments-key-admin",
]
detokenize_allowed_principals = [
  "arn:aws:iam::111111111111:role/payments-chargebacks",
]
# Merchants are onboarded in the registry, not here (no apply): an operator with write access
# to the <prefix>-merchants table runs `python -m local.cli merchant create --id <merchant>
# --table <prefix>-merchants --environment dev` with its AWS credentials (docs/decisions/0008).

# The environment's profile (README, "Environment profiles"; tests/unit/deploy checks that
# table against these values). Sized for 5 requests/s: 60 reserved concurrent executions.
az_count           = 2
log_retention_days = 365
capacity = {
  requests_per_second = 5
  # The account's quota: a new account's 10 or 50 holds no reservation at all (Lambda keeps
  # 100 unreserved); ask Service Quotas for 1,000 (L-B99A9384) before the first apply.
  lambda_concurrency_quota = 1000
}
# Deletable soon: a short GOVERNANCE lock, and terraform destroy may empty the buckets.
audit_object_lock   = { mode = "GOVERNANCE", retention_days = 7 }
audit_force_destroy = true
backup              = { enabled = false }

# SLO alarms (README "Operations"): a dev environment sees little traffic and shares its
# account with experiments, so it judges a lower availability and a slower p99 only once it has
# had some volume.
slo = { availability_percent = 99.0, latency_p99_ms = 5000, min_requests = 20, min_payments = 10 }
