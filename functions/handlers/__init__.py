"""One thin module per Lambda: Powertools decorators over the domain."""
