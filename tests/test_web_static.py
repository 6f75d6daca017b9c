"""`hil serve` serves the web UI's static export at / (HIL_WEB_DIR), and nothing outside it; the API,
the docs and the health routes keep their handlers. Builds nothing: a temporary folder stands in
for the export."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hil.server.app import create_app, static_file
from hil.store import Store


@pytest.fixture
def web(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    out = tmp_path / "srv" / "out"
    (out / "runs").mkdir(parents=True)
    (out / "_next" / "static").mkdir(parents=True)
    (out / "index.html").write_text("<html>home</html>")
    (out / "runs" / "index.html").write_text("<html>run page</html>")
    (out / "404.html").write_text("<html>404</html>")
    (out / "_next" / "static" / "app.js").write_text("console.log(1)")
    (tmp_path / "srv" / "secret").write_text("not for you")  # next to the export: must never be served
    (out / "link").symlink_to(tmp_path / "srv" / "secret")  # a symlink that leads out
    monkeypatch.setenv("HIL_WEB_DIR", str(out))
    return out


@pytest.fixture
def client(sqlite_store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(sqlite_store, workers=0)) as c:
        yield c


def test_the_export_is_served_at_the_root_and_the_api_keeps_its_routes(web: Path, client: TestClient) -> None:
    home = client.get("/")
    assert home.status_code == 200 and home.text == "<html>home</html>"
    assert home.headers["content-type"].startswith("text/html") and home.headers["cache-control"] == "no-cache"
    for path in ("/runs/", "/runs", "/runs/?id=abc"):
        page = client.get(path, follow_redirects=False)
        assert page.status_code == 200 and page.text == "<html>run page</html>", path
    asset = client.get("/_next/static/app.js")
    assert asset.status_code == 200 and "immutable" in asset.headers["cache-control"]
    assert client.head("/").status_code == 200

    assert client.get("/api/v1/workflows").json() == []
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ready"
    assert client.get("/openapi.json").json()["info"]["title"] == "hil"
    assert client.get("/docs").status_code == 200
    # an unknown API path is the API's JSON 404, never a page
    missing = client.get("/api/v1/nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert client.post("/api/v1/nope").status_code in (404, 405)
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page.json()["error"]["message"] == "no page /no-such-page/"


@pytest.mark.parametrize("path", ["/../../etc/passwd", "/%2e%2e/secret", "/%2e%2e/%2e%2e/etc/passwd", "/runs/../../secret",
                                  "/..%2fsecret", "/%2fetc%2fpasswd", "//etc/passwd", "/link", "/runs/%00",
                                  "/..\\secret", "/%5c..%5csecret"])
def test_no_path_escapes_the_export(web: Path, client: TestClient, path: str) -> None:
    r = client.get(path)
    assert "not for you" not in r.text and "root:" not in r.text
    assert r.status_code in (400, 404, 422), (path, r.status_code)


def raw_get(client: TestClient, raw_path: bytes) -> tuple[int, bytes]:
    """A GET whose path reaches the app exactly as sent: HTTP clients would remove the dot segments."""
    from urllib.parse import unquote

    scope: dict[str, Any] = {"type": "http", "http_version": "1.1", "method": "GET", "scheme": "http",
                             "path": unquote(raw_path.decode("latin-1")), "raw_path": raw_path, "root_path": "",
                             "query_string": b"", "headers": [(b"host", b"testserver")],
                             "client": ("127.0.0.1", 1), "server": ("testserver", 80)}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(client.app(scope, receive, send))  # type: ignore[arg-type]
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


@pytest.mark.parametrize("raw", [b"/../../etc/passwd", b"/../secret", b"/runs/../../secret", b"/%2e%2e/secret",
                                 b"/./../secret", b"/runs/..", b"/.."])
def test_raw_dot_segments_cannot_escape(web: Path, client: TestClient, raw: bytes) -> None:
    status, body = raw_get(client, raw)
    assert status == 404 and b"not for you" not in body and b"root:" not in body, (raw, status, body)


def test_static_file_resolves_only_inside_the_folder(web: Path) -> None:
    assert static_file(web, "") == web.resolve() / "index.html"
    assert static_file(web, "runs/") == web.resolve() / "runs" / "index.html"
    assert static_file(web, "404") == web.resolve() / "404.html"
    for bad in ("../secret", "runs/../../secret", "/etc/passwd", "link", "./index.html", "a\\..\\secret", "x\0"):
        assert static_file(web, bad) is None, bad
    assert static_file(web / "missing", "") is None


def test_without_a_build_the_root_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, client: TestClient) -> None:
    monkeypatch.setenv("HIL_WEB_DIR", str(tmp_path / "nothing"))
    r = client.get("/")
    assert r.status_code == 404
    assert r.json()["error"]["message"] == "the web UI is not part of this build"
    assert client.get("/api/v1/workflows").status_code == 200
