"""Pydantic models of what crosses a boundary: API requests, workflow events, responses."""
