"""Typed contracts between components: what crosses a boundary is one of these models."""
