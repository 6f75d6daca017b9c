"""Governance: the audit log's verification and checkpoints."""
