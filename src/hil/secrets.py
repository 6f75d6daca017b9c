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

from cryptography.fernet import Fernet, InvalidToken

from hil import settings
from hil.errors import ConfigError

_lock = threading.Lock()


def redact_url(url: str) -> str:
    """The URL or DSN without its password, for messages."""
    url = re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)
    return re.sub(r"(password\s*=\s*)\S+", r"\1***", url, flags=re.I)  # key=value DSNs


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


def encrypt(text: str) -> str:
    try:
        return Fernet(_key()).encrypt(text.encode()).decode()
    except ValueError as err:
        raise ConfigError(f"the secret key is not valid: {err}",
                          hint="HIL_SECRET_KEY must be 32 url-safe base64-encoded bytes") from None


def decrypt(token: str) -> str:
    try:
        return Fernet(_key()).decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        raise ConfigError("a stored secret cannot be decrypted with this secret key",
                          hint="use the HIL_SECRET_KEY (or $HIL_HOME/secret.key) the secret was stored with") from None
