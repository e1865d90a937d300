# The http acquirer connector (var.acquirer_connector = "http", var.acquirer_http): the API's
# address and the secret holding its bearer token reach the three functions that talk to the
# acquirer (process_payment, reconcile, and settle, which reads its settlement batches), and
# only they may read that one secret. The
# network path from the CDE subnets to the acquirer is docs/decisions/0010-acquirer-egress.md.

locals {
  acquirer_http = var.acquirer_connector == "http" ? var.acquirer_http : null

  # The functions that talk to the acquirer: with the http connector they run in the acquirer
  # tier (var.acquirer_vpc_config), the only subnets with a path out, and to the acquirer alone.
  acquirer_callers = ["process_payment", "reconcile", "settle"]
  step_vpc_config = {
    for name in ["assess_risk", "process_payment", "reconcile", "settle"] :
    name => contains(local.acquirer_callers, name) && local.acquirer_http != null ? var.acquirer_vpc_config : var.vpc_config
  }

  acquirer_http_environment = local.acquirer_http == null ? {} : {
    ACQUIRER_BASE_URL              = local.acquirer_http.base_url
    ACQUIRER_CREDENTIAL_SECRET_ARN = local.acquirer_http.credential_secret_arn
  }

  acquirer_credential_statements = flatten([for http in local.acquirer_http == null ? [] : [local.acquirer_http] : [
    {
      sid       = "ReadAcquirerCredential"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [http.credential_secret_arn]
    },
    {
      # The secret is encrypted with the application key, usable through Secrets Manager for
      # that secret only.
      sid       = "ApplicationKeyViaSecretsManager"
      actions   = ["kms:Decrypt"]
      resources = [var.data_kms_key_arn]
      conditions = [
        { test = "StringEquals", variable = "kms:ViaService", values = ["secretsmanager.${local.region}.amazonaws.com"] },
        { test = "StringEquals", variable = "kms:EncryptionContext:SecretARN", values = [http.credential_secret_arn] },
      ]
    },
  ]])
}
