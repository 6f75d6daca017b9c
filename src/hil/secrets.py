"""Keeping secrets out of messages and logs."""

from __future__ import annotations

import re


def redact_url(url: str) -> str:
    """The URL or DSN without its password, for messages."""
    url = re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)
    return re.sub(r"(password\s*=\s*)\S+", r"\1***", url, flags=re.I)  # key=value DSNs
