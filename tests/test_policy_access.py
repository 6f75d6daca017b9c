"""Without API keys every caller is the local admin, so a server may bind and answer this
machine only. The rule lives in the policy package and is enforced by the app itself: an app
made with ``create_app`` refuses a remote peer whoever serves it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from hil.policy.access import bind_verdict, is_loopback, peer_verdict
from hil.server.app import create_app
from hil.store import Store
from hil.store.db import open_store


@pytest.mark.parametrize("host,loopback", [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True),
                                           ("localhost", True), ("0.0.0.0", False), ("10.0.0.5", False),
                                           ("::", False), ("example.org", False)])
def test_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
    verdict = bind_verdict(host, auth=False)
    assert verdict.allowed is loopback
    assert verdict.rule == ("bind-loopback-or-auth" if loopback else "no-remote-without-auth")
    assert bind_verdict(host, auth=True).allowed


@pytest.mark.parametrize("peer,allowed", [("127.0.0.1", True), ("::1", True), (None, True), ("testclient", True),
                                          ("192.168.1.20", False), ("2001:db8::1", False), ("0.0.0.0", False)])
def test_peer(peer: str | None, allowed: bool) -> None:
    assert peer_verdict(peer, auth=False).allowed is allowed
    assert peer_verdict(peer, auth=True).allowed


@pytest.fixture
def app_store() -> Iterator[Store]:
    store = open_store()
    yield store
    store.dispose()


@pytest.mark.parametrize("path", ["/api/v1/workflows", "/healthz", "/readyz", "/"])
def test_app_without_auth_refuses_remote_peers(app_store: Store, path: str) -> None:
    app = create_app(app_store, workers=0)
    with TestClient(app, client=("203.0.113.9", 40000)) as remote:
        response = remote.get(path)
        assert response.status_code == 403
        error = response.json()["error"]
        assert error["code"] == "forbidden_peer"
        assert "its own machine only" in error["message"]
    with TestClient(app, client=("127.0.0.1", 40000)) as local:
        assert local.get("/api/v1/workflows").status_code == 200


def test_app_with_auth_lets_remote_peers_reach_the_key_check(app_store: Store) -> None:
    with TestClient(create_app(app_store, workers=0, auth=True), client=("203.0.113.9", 40000)) as remote:
        response = remote.get("/api/v1/workflows")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
