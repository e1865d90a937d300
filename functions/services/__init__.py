"""Application services: the payment workflow's use cases over the domain's ports."""
