"""Pure payment logic: no boto3, no Powertools."""
