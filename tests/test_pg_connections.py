"""Connecting to PostgreSQL: each way it can fail is named, against a real server."""

from __future__ import annotations

import socket

import psycopg
import pytest

from hil.connectors import connect
from hil.errors import ConnectionFailed
from hil.workflows import SqlConnection
from tests.pg import PostgresServer


def _fail(dsn: str) -> ConnectionFailed:
    with pytest.raises(ConnectionFailed) as err:
        connect(SqlConnection(name="warehouse", engine="postgres", dsn=dsn))
    assert "warehouse" in err.value.message and err.value.hint
    return err.value


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_host(postgres: PostgresServer) -> None:
    err = _fail(f"postgresql://hil:hil@127.0.0.1:{_free_port()}/postgres")
    assert err.details["cause"] == "host_unreachable"


def test_bad_password_is_not_shown(postgres: PostgresServer) -> None:
    err = _fail(postgres.url(password="wrong-secret"))
    assert err.details["cause"] == "authentication_failed"
    assert "wrong-secret" not in str(err.to_dict()) and "***" in err.details["dsn"]


def test_missing_database(postgres: PostgresServer) -> None:
    err = _fail(postgres.url("no_such_db"))
    assert err.details["cause"] == "database_missing" and "no_such_db" in err.message


def test_missing_permission(postgres: PostgresServer) -> None:
    with psycopg.connect(postgres.url(), autocommit=True) as admin:
        admin.execute("CREATE ROLE outsider LOGIN PASSWORD 'outsider'")
        admin.execute("CREATE DATABASE locked")
        admin.execute("REVOKE CONNECT ON DATABASE locked FROM PUBLIC")
    err = _fail(postgres.url("locked", user="outsider", password="outsider"))
    assert err.details["cause"] == "permission_denied"


def test_a_malformed_dsn() -> None:
    err = _fail("postgresql://hil:hil@127.0.0.1:notaport/x")
    assert err.details["cause"] == "invalid_dsn" and "notaport" in err.message
