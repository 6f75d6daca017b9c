"""Keeping secrets out of messages and logs, and encrypted at rest.

Secret fields (a Postgres DSN with its password) are stored encrypted with a key that lives
outside the store: ``HIL_SECRET_KEY`` when set (a team sets it on every worker), otherwise
``$HIL_HOME/secret.key``, created with mode 0600 on first use. A store copied without its key
reveals no passwords.
"""

from __future__ import annotations

import os
import re
import threading

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from hil import settings
from hil.errors import ConfigError

_lock = threading.Lock()


HIDDEN = "***"
_SECRET_KEYS = ("password", "sslpassword")  # libpq parameters that carry a secret


def redact_url(dsn: str) -> str:
    """The DSN or store URL without its password, re-rendered from its parsed parts (URL form and
    libpq's key=value form); one that cannot be parsed is hidden whole rather than guessed at."""
    text = dsn.strip()
    if not text:
        return text
    return _redact_url_form(text) if "://" in text else _redact_key_values(text)


def _userinfo(rest: str) -> tuple[str | None, str]:
    """(userinfo or None, the rest) of what follows ``scheme://``. The userinfo ends at the last
    '@': a password may itself hold '@', '/' or '?'. (An '@' in a query parameter makes more of the
    URL count as userinfo: shown less, never more.)"""
    at = rest.rfind("@")
    return (rest[:at], rest[at + 1:]) if at >= 0 else (None, rest)


_PASSWORD_PARAM = re.compile(r"((?:^|[?&])(?:ssl)?password=)[^&]*", re.I)


def _redact_url_form(url: str) -> str:
    scheme, rest = url.split("://", 1)
    userinfo, rest = _userinfo(rest)
    if userinfo is not None:
        user, has_password, _password = userinfo.partition(":")
        rest = f"{user}{':' + HIDDEN if has_password else ''}@{rest}"
    return _PASSWORD_PARAM.sub(rf"\1{HIDDEN}", f"{scheme}://{rest}")


def _redact_key_values(conninfo: str) -> str:
    from psycopg import conninfo as libpq  # imported here: only DSNs in key=value form need it

    try:
        parts = libpq.conninfo_to_dict(conninfo)
    except Exception:  # noqa: BLE001 - any parse failure: show nothing of it
        return f"{HIDDEN} (a DSN that could not be parsed)"
    return " ".join(f"{k}={HIDDEN if k in _SECRET_KEYS else _quote(str(v))}" for k, v in parts.items())


def _quote(value: str) -> str:
    if value and not any(c in value for c in " '\\="):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def dsn_secrets(dsn: str) -> list[str]:
    """What must never be shown of a DSN: the DSN itself and its password, raw and decoded."""
    from urllib.parse import unquote

    found = [dsn.strip()]
    if "://" in dsn:
        userinfo, _rest = _userinfo(dsn.split("://", 1)[1])
        if userinfo and ":" in userinfo:
            password = userinfo.split(":", 1)[1]
            # libpq may split an unencoded '@' differently (part of the password read as the host):
            # every piece of it is secret
            found += [password, unquote(password), *password.split("@")]
    for key in _SECRET_KEYS:
        for match in re.finditer(rf"{key}\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", dsn, flags=re.I):
            value = match.group(1)
            found += [value, value.strip("'")]
    return sorted({f for f in found if len(f) >= 2}, key=len, reverse=True)


def scrub(text: str, dsn: str | None) -> str:
    """``text`` (a driver's error, say) with the DSN and its password taken out."""
    if not dsn:
        return text
    for secret in dsn_secrets(dsn):
        text = text.replace(secret, HIDDEN)
    return text


def _key() -> bytes:
    env = os.environ.get("HIL_SECRET_KEY")
    if env:
        return env.encode()
    path = settings.home() / "secret.key"
    with _lock:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(Fernet.generate_key())
        return path.read_bytes().strip()


def _previous_keys() -> list[bytes]:
    """Keys stored values may still be sealed with after a rotation: ``HIL_SECRET_KEY_PREVIOUS``
    (comma-separated), else ``$HIL_HOME/secret.key.previous`` (one per line)."""
    env = os.environ.get("HIL_SECRET_KEY_PREVIOUS")
    if env is not None:
        return [k.strip().encode() for k in env.split(",") if k.strip()]
    path = settings.home() / "secret.key.previous"
    return [line.strip() for line in path.read_bytes().splitlines() if line.strip()] if path.exists() else []


def _fernet() -> MultiFernet:
    """Seals with the current key; opens with it or any previous one."""
    try:
        return MultiFernet([Fernet(k) for k in [_key(), *_previous_keys()]])
    except ValueError as err:
        raise ConfigError(f"the secret key is not valid: {err}",
                          hint="HIL_SECRET_KEY must be 32 url-safe base64-encoded bytes") from None


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        raise ConfigError("a stored secret cannot be decrypted with this secret key",
                          hint="use the HIL_SECRET_KEY (or $HIL_HOME/secret.key) the secret was stored with: every "
                               "machine that shares a store needs the same HIL_SECRET_KEY") from None


def reseal(token: str) -> str:
    """The same secret sealed with the current key (after a rotation)."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except (InvalidToken, ValueError):
        raise ConfigError("a stored secret cannot be decrypted with this secret key or a previous one",
                          hint="set HIL_SECRET_KEY_PREVIOUS to the key it was stored with") from None


def new_key_file() -> None:
    """Start a rotation of the file key: the current key joins the previous ones, a new one is
    written. Values sealed before still open (with the previous key) until they are resealed."""
    if os.environ.get("HIL_SECRET_KEY"):
        raise ConfigError("the secret key comes from HIL_SECRET_KEY, which hil cannot change",
                          hint="set HIL_SECRET_KEY to a new key and HIL_SECRET_KEY_PREVIOUS to the old one on every "
                               "machine, then run `hil secrets rotate` once")
    home = settings.home()
    current = _key()
    with _lock:
        with (home / "secret.key.previous").open("ab") as f:
            os.chmod(home / "secret.key.previous", 0o600)
            f.write(current + b"\n")
        fresh = home / "secret.key.new"
        fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(Fernet.generate_key())
        os.replace(fresh, home / "secret.key")
