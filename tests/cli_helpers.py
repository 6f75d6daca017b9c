"""Running the real `hil` command the way a user does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HIL = str(Path(sys.executable).parent / "hil")


def hil(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HIL, *args], env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          input=stdin, timeout=300)


def assert_clean_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    first = result.stderr.strip().splitlines()[0]
    assert first.startswith("error: ")
    for f in fragments:
        assert f in first, first
