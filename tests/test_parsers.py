"""Every supported format parses into structured text; unusable files fail with a reason."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from hil.knowledge.chunking import chunk_text
from hil.knowledge.parsers import Unreadable, parse


def make_pdf(pages: list[str], title: str | None = None) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    if title:
        pdf.set_title(title)
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def make_docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("Tyre Policy", level=0)
    document.add_heading("Pressure", level=1)
    document.add_paragraph("Check tyre pressure every Monday before the first trip.")
    table = document.add_table(rows=2, cols=2)
    for r, row in enumerate([("axle", "psi"), ("front", "110")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_xlsx() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "depots"
    sheet.append(["depot", "vehicles"])
    sheet.append(["Leeds", 42])
    sheet.append(["York", 17])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_markdown_keeps_headings_and_takes_its_title_from_the_first_heading() -> None:
    parsed = parse("cooling.md", b"# Cooling Manual\n\n## Thermostat\n\nReplace it at 80,000 km.\n")
    assert parsed.kind == "markdown" and parsed.title == "Cooling Manual"
    chunks = chunk_text(parsed.text, parsed.title)
    assert chunks[-1].heading == "Thermostat" and "80,000 km" in chunks[-1].text


def test_html_becomes_headings_paragraphs_and_table_rows_without_scripts() -> None:
    html = (b"<html><head><title>Brake Guide</title><script>var x = 'ignore me';</script></head><body>"
            b"<h1>Brakes</h1><p>Pads wear out.</p><h2>Limits</h2><p>Replace at 3&nbsp;mm.</p>"
            b"<table><tr><th>axle</th><th>mm</th></tr><tr><td>front</td><td>3</td></tr></table></body></html>")
    parsed = parse("guide.html", html)
    assert parsed.title == "Brake Guide"
    assert "## Limits" in parsed.text and "| front | 3 |" in parsed.text
    assert "ignore me" not in parsed.text
    assert [c.heading for c in chunk_text(parsed.text, parsed.title)][-1] == "Brakes > Limits"


def test_pdf_text_layer_with_page_numbers() -> None:
    parsed = parse("report.pdf", make_pdf(["Quarterly summary of the fleet.", "Coolant leaks rose by 12 percent."],
                                          title="Q3 Report"))
    assert parsed.kind == "pdf" and parsed.title == "Q3 Report"
    chunks = chunk_text(parsed.text, parsed.title, max_chars=100, overlap=0, page_at=parsed.page_at)
    leak = next(c for c in chunks if "Coolant" in c.text)
    assert leak.page == 2 and leak.page_end == 2
    assert next(c for c in chunks if "Quarterly" in c.text).page == 1


def test_docx_headings_paragraphs_and_tables_in_order() -> None:
    parsed = parse("policy.docx", make_docx())
    assert parsed.title == "Tyre Policy"
    assert parsed.text.index("## Pressure") < parsed.text.index("every Monday") < parsed.text.index("| front | 110 |")


def test_csv_rows_become_text_and_a_table_offered_to_sql() -> None:
    parsed = parse("depots.csv", b"depot,vehicles\nLeeds,42\nYork,17\n")
    assert "depot: Leeds; vehicles: 42" in parsed.text
    assert parsed.tables[0].columns == ["depot", "vehicles"] and parsed.tables[0].rows[1] == ["York", "17"]


def test_xlsx_sheets_become_sections() -> None:
    parsed = parse("fleet.xlsx", make_xlsx())
    assert "## depots" in parsed.text and "depot: York; vehicles: 17" in parsed.text
    assert parsed.tables[0].name == "fleet depots"


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("broken.pdf", b"%PDF-1.4\n1 0 obj <<>> garbage", "corrupt PDF"),
    ("blob.bin", bytes(range(256)) * 8, "binary file of unsupported type '.bin'"),
    ("empty.md", b"", "empty file"),
    ("blank.txt", b"  \n\n ", "empty file"),
    ("notes.xyz", b"plain words", "unsupported type '.xyz'"),
    ("fake.docx", b"PK not really a zip", "not a valid DOCX"),
    ("fake.xlsx", b"not a zip", "not a valid XLSX"),
    ("nul.txt", b"text\x00with NUL", "binary content"),
    ("scan.pdf", make_pdf([""]), "no text found (a scanned PDF"),
])
def test_unusable_files_fail_with_a_reason(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(Unreadable, match=reason.replace("(", r"\(")):
        parse(name, data)


def test_a_file_without_suffix_is_sniffed(tmp_path: Path) -> None:
    assert parse("README", b"Plain notes about tyres.").kind == "text"
    assert parse("scan", make_pdf(["Page one text."])).kind == "pdf"
