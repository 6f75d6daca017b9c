"""The ollama: embedder asks the same Ollama server as the ollama: models (OLLAMA_BASE_URL, whose
/v1 is the OpenAI-compatible path), falling back to Ollama's own OLLAMA_HOST."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hil.knowledge.embedders import HttpEmbedder


@pytest.fixture
def ollama() -> Iterator[tuple[str, list[str]]]:
    """A stand-in for Ollama's /api/embed: three-number vectors, every path asked recorded."""
    paths: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            paths.append(self.path)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            data = json.dumps({"embeddings": [[1.0, 0.0, 0.5] for _ in body["input"]]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", paths
    server.shutdown()


def test_the_embedder_uses_the_models_ollama_server(ollama: tuple[str, list[str]],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    url, paths = ollama
    monkeypatch.setenv("OLLAMA_BASE_URL", url + "/v1")
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")  # another server, not asked
    embedder = HttpEmbedder("ollama", "nomic-embed-text")
    assert embedder.dim == 3 and paths == ["/api/embed"]


def test_without_a_base_url_the_embedder_uses_ollama_host(ollama: tuple[str, list[str]],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    url, paths = ollama
    monkeypatch.delenv("OLLAMA_BASE_URL", raising=False)
    monkeypatch.setenv("OLLAMA_HOST", url)
    assert HttpEmbedder("ollama", "nomic-embed-text").dim == 3 and paths == ["/api/embed"]
