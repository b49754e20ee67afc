"""Helpers for the render service's tests: a profile-scoped client, media files, inspection of
Postgres/Redis/disk state, and fixtures that start render (and progress) processes."""
