"""Fixtures' building blocks: real databases, Redis prefixes and service processes."""
