"""The REST gateway for the web frontend (FastAPI)."""
