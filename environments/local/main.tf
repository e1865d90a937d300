module "platform" {
  source = "../../modules/platform"

  name_prefix            = "payments-local"
  environment            = "local"
  key_administrator_arns = [aws_iam_role.key_admin.arn]
  # Only this role may turn a token back into a card number.
  detokenize_allowed_principals = [aws_iam_role.detokenizer.arn]
  # The emulator's IAM users (the demo's and the tests' merchants) and the detokenizer role may
  # act for any merchant; a real environment names each merchant's principals.
  merchant_principals = {
    "*" = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:user/", aws_iam_role.detokenizer.arn]
  }
  lambda_package = var.lambda_package
  # The emulator's workers run this machine's Python; the package is built for it.
  lambda_runtime = "python3.11"
  # The demo shows the TRA exemption: a stated rate, not a measured one (local only).
  sca_tra_fraud_rate_percent = "0.13"
  # Throwaway environment: every `make up` starts from an empty emulator.
  deletion_protection = false
  audit_force_destroy = true
}
