"""The reference pages are generated from the code and must not drift (docs/cli.md from the CLI,
docs/settings.md from the settings list, docs/events.md from the event types and their payload
fields); user docs speak of using the product only."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from hil.events import PAYLOADS, EventType

ROOT = Path(__file__).resolve().parent.parent
USER_DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "docs/guides").glob("*.md"))]
# what belongs in CONTRIBUTING.md, not in a user's page
DEVELOPMENT = [r"\.\./shared", r"shared/data", r"migration 0\d", r"[Dd]epartures? from", r"target design",
               r"DESIGN\.md", r"conftest", r"/work/", r"test infrastructure"]


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_reference_pages_match_the_code() -> None:
    assert generator().stale() == [], "run `make docs` and commit the pages"


def test_the_check_fails_and_names_a_page_that_drifted(tmp_path: Path) -> None:
    gen = generator()
    gen.ROOT = tmp_path  # a copy of the pages, one of them edited by hand
    (tmp_path / "docs").mkdir()
    for page, render in gen.PAGES.items():
        (tmp_path / page).write_text(render())
    (tmp_path / "docs/settings.md").write_text((ROOT / "docs/settings.md").read_text() + "\nhand edit\n")
    assert gen.stale() == ["docs/settings.md"]
    proc = subprocess.run([sys.executable, str(ROOT / "scripts/gen_docs.py"), "--check"], capture_output=True,
                          text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr  # the real pages are current


def test_every_event_type_is_documented() -> None:
    assert set(PAYLOADS) == {t.value for t in EventType}
    page = (ROOT / "docs/events.md").read_text()
    assert all(f"## `{t.value}`" in page for t in EventType)


@pytest.mark.parametrize("path", USER_DOCS, ids=lambda p: p.name)
def test_user_docs_hold_no_development_material(path: Path) -> None:
    text = path.read_text()
    found = [p for p in DEVELOPMENT if re.search(p, text)]
    assert not found, f"{path.name} mentions {found}: that belongs in CONTRIBUTING.md"
