# Replace with your organisation's values before the first apply.
account_id = "333333333333"
region     = "eu-west-1"
owner      = "payments-platform"
# environments/bootstrap makes this role (its key_administrator_role_arn output): KMS refuses
# key policies that name a role that does not exist yet.
key_administrator_arns = [
  "arn:aws:iam::333333333333:role/payments-key-admin",
]
detokenize_allowed_principals = [
  "arn:aws:iam::333333333333:role/payments-chargebacks",
]
# Who receives the security alarms (PCI DSS 10.2 events, function failures): required outside dev.
alarm_subscriptions = [
  { protocol = "email", endpoint = "payments-secops@example.com" },
]
# Merchants are onboarded in the registry, not here (no apply): an operator with write access
# to the <prefix>-merchants table runs `python -m local.cli merchant create --id <merchant>
# --table <prefix>-merchants --environment prod` with its AWS credentials (docs/decisions/0008).

# prod refuses to plan while the card network is simulated (the acquirer simulator and the
# simulated 3-D Secure server are the only ones so far). Only for a rehearsal that takes no real
# payments:
# allow_simulated_card_network_in_prod = true
#
# A real acquirer: its API, the secret with its token, and the way out of the VPC to it
# (docs/decisions/0010-acquirer-egress.md; PrivateLink where the acquirer offers it):
# acquirer_connector = "http"
# acquirer_http      = { base_url = "https://api.acquirer.example/v1", credential_secret_arn = "arn:aws:secretsmanager:..." }
# acquirer_egress    = { mode = "firewall", allowed_domains = ["api.acquirer.example"] }

# The environment's profile (README, "Environment profiles"; tests/unit/deploy checks that
# table against these values). Sized for 100 requests/s: 687 reserved concurrent executions
# of the 900 a 1,000 quota lets Lambda reserve.
az_count           = 3
log_retention_days = 731
capacity = {
  requests_per_second      = 100
  lambda_concurrency_quota = 1000
}
audit_object_lock = { mode = "COMPLIANCE", retention_days = 365 }
# Daily backups of the vault and ledger tables kept 35 days in a vault whose COMPLIANCE lock
# becomes immutable 3 days after the first apply.
backup = { enabled = true, retention_days = 35, vault_lock_changeable_for_days = 3 }

# SLO alarms (README "Operations"): the objectives the platform answers for.
slo = { availability_percent = 99.9, latency_p99_ms = 3000 }
