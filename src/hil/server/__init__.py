"""The HTTP server (FastAPI)."""
