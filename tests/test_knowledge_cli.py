"""`hil knowledge` as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_helpers import assert_clean_error, hil
from tests.test_parsers import make_pdf


def test_add_status_search_remove(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "brakes.md").write_text("# Brake Manual\n\n## Pads\n\nReplace brake pads thinner than 3 mm.\n")
    (docs / "report.pdf").write_bytes(make_pdf(["Cover page.", "Tyre blowouts fell to two."], title="Q3 Report"))
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 nothing else")
    (docs / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")

    added = hil("knowledge", "add", "manuals", str(docs))
    assert added.returncode == 2, added.stderr  # some documents failed
    assert "manuals: 2 failed, 2 indexed" in added.stdout
    assert "broken.pdf: corrupt PDF" in added.stderr and "image.png: binary file" in added.stderr

    again = hil("knowledge", "add", "manuals", str(docs / "brakes.md"), "--json")
    assert again.returncode == 0
    assert [e["status"] for e in json.loads(again.stdout)] == ["unchanged"]

    status = json.loads(hil("knowledge", "status", "manuals", "--json").stdout)
    assert {Path(d["source"]).name: d["status"] for d in status} == {
        "brakes.md": "indexed", "report.pdf": "indexed", "broken.pdf": "failed", "image.png": "failed"}
    table = hil("knowledge", "status", "manuals")
    assert "corrupt PDF" in table.stdout and "0 chunks to embed" in table.stdout

    found = hil("knowledge", "search", "manuals", "tyre blowouts")
    assert found.returncode == 0
    first = found.stdout.splitlines()[0]
    assert first.startswith("[1] Q3 Report · p. 2 · ") and "report.pdf chars " in first
    hits = json.loads(hil("knowledge", "search", "manuals", "brake pads", "--json", "-k", "1").stdout)
    assert hits[0]["heading"] == "Pads" and hits[0]["collection"] == "manuals"

    listed = json.loads(hil("knowledge", "list", "--json").stdout)
    assert listed[0]["name"] == "manuals" and listed[0]["documents"] == {"failed": 2, "indexed": 2}

    assert hil("knowledge", "remove", "manuals", str(docs / "brakes.md")).returncode == 0
    assert "Brake Manual" not in hil("knowledge", "search", "manuals", "brake pads").stdout
    assert_clean_error(hil("knowledge", "remove", "manuals"), "without confirmation")
    assert hil("knowledge", "remove", "manuals", "--yes").returncode == 0
    assert_clean_error(hil("knowledge", "search", "manuals", "x"), "no knowledge collection named 'manuals'")


def test_add_without_embedding_then_embed(tmp_path: Path) -> None:
    doc = tmp_path / "a.md"
    doc.write_text("# A\n\nAlpha beta gamma.\n")
    assert hil("knowledge", "add", "notes", str(doc), "--no-embed").returncode == 0
    assert "1 chunks to embed" in hil("knowledge", "status", "notes").stdout
    embedded = hil("knowledge", "embed", "notes")
    assert embedded.returncode == 0 and "0 chunks left to embed" in embedded.stdout
    assert hil("knowledge", "search", "notes", "gamma", "--mode", "vector").stdout.startswith("[1] A")


def test_errors_are_clear(tmp_path: Path) -> None:
    assert_clean_error(hil("knowledge", "add", "notes", str(tmp_path / "missing.md")), "no such file or folder")
    assert_clean_error(hil("knowledge", "add", "Bad Name", str(tmp_path)), "collection name 'Bad Name' is not valid")
    assert_clean_error(hil("knowledge", "add", "notes", str(tmp_path), "--embedder", "bert"), "unknown embedder")
    assert_clean_error(hil("knowledge", "status", "nothing"), "no knowledge collection named 'nothing'")


def test_csv_and_xlsx_rows_are_text_and_tables_for_sql(tmp_path: Path) -> None:
    from tests.test_parsers import make_xlsx

    (tmp_path / "depots.csv").write_text("depot,vehicles\nLeeds,42\nYork,17\n")
    (tmp_path / "fleet.xlsx").write_bytes(make_xlsx())
    added = hil("knowledge", "add", "ops", str(tmp_path / "depots.csv"), str(tmp_path / "fleet.xlsx"))
    assert added.returncode == 0, added.stderr
    assert "depots.csv: offered to SQL as depots in connection ops-tables" in added.stderr
    total = hil("sql", "ops-tables", "SELECT sum(vehicles) AS total FROM depots", "--json")
    assert total.returncode == 0, total.stderr
    assert json.loads(total.stdout)["rows"] == [[59]]
    sheet = json.loads(hil("sql", "ops-tables", "SELECT depot FROM fleet_depots WHERE vehicles > 20", "--json").stdout)
    assert sheet["rows"] == [["Leeds"]]
    assert "York" in hil("knowledge", "search", "ops", "York vehicles").stdout

    assert hil("knowledge", "remove", "ops", str(tmp_path / "depots.csv")).returncode == 0
    gone = hil("sql", "ops-tables", "SELECT * FROM depots")
    assert gone.returncode != 0 and "depots" in gone.stderr
    assert hil("knowledge", "remove", "ops", "--yes").returncode == 0
    assert hil("connections", "list").stdout.count("ops-tables") == 0
