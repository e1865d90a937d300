"""boto3 behind small interfaces."""
