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
