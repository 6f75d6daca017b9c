"""Agents: planner, sql, rag, reasoner, responder, and the registry plug-ins use."""
