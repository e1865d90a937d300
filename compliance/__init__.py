"""PCI DSS control mapping, exceptions register and report generator."""
