"""Custom checkov policies for PCI DSS v4.0.1."""
