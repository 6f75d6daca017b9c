"""Governance in one place: who may reach the server (access), which actions wait for a human
(gates), who may decide them (rules), the tenant's policy document, which model providers a
workflow may name (models), and the audit log's verification and checkpoints."""
