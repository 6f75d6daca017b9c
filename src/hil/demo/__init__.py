"""The demo workspace: a fictional fleet-operations company (data, documents, workflow)."""
