# The Payment API's custom domain (var.api_domain_name): the only place API Gateway lets the
# TLS policy be chosen. With a domain, TLS_1_2 is the floor and the default execute-api
# endpoint is disabled (api.tf), so the weaker default policy of that endpoint (TLS 1.0 and up)
# is not reachable at all (PCI DSS 4.2.1; CKV_PCI_028 and CKV2_PCI_005). Without one the API is
# served on the default endpoint only, as the README says.

locals {
  custom_domain = var.api_domain_name != null
}

resource "aws_api_gateway_domain_name" "this" {
  count = local.custom_domain ? 1 : 0

  domain_name              = var.api_domain_name
  regional_certificate_arn = var.api_certificate_arn
  security_policy          = "TLS_1_2"

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  tags = var.tags
}

# The stage at the domain's root: the routes keep their /v1 prefix
# (https://<domain>/v1/payments), as on the default endpoint's stage URL.
resource "aws_api_gateway_base_path_mapping" "this" {
  count = local.custom_domain ? 1 : 0

  api_id      = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.v1.stage_name
  domain_name = aws_api_gateway_domain_name.this[0].domain_name
}
