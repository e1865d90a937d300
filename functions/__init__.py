"""AWS Payments Blueprint Lambda code: pure domain, boto3 adapters, thin handlers."""
