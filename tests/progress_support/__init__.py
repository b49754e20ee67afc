"""Helpers for the progress service's tests: in-memory stores, a TCP proxy, client calls."""
