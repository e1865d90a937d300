"""Buy Now Pay Later credit (pure domain): instalment schedules, the scoring profile, the
scorecard, the decision and the credit ledger. No boto3, no Powertools."""
