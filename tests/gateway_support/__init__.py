"""Helpers for the gateway's tests: a running stack, tokens, raw HTTP, a scripted render server."""
