"""hil: governed, human-in-the-loop agentic data workflows."""

import os

# Before anything imports numpy: its BLAS threads fight the embedder's own on a small machine, and a
# query embedding takes ~110 ms instead of ~10 ms (measured on 2 cores). Set it to override.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
