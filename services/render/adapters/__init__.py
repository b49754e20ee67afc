"""Adapters of the render service: one outside thing each (Postgres, Redis, gRPC peers)."""
