"""Model providers behind one interface (:class:`hil.models.llm.LLM`)."""
