"""Observability: structured logs that carry the run being worked on."""
