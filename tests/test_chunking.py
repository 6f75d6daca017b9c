"""Chunks follow the structure and point at the exact text they came from."""

from __future__ import annotations

import itertools

from hil.knowledge.chunking import chunk_text

DOC = """# Cooling Manual

Intro paragraph about the cooling system.

## Thermostat

The thermostat opens at 88 degrees. Replace it when it sticks.

### Symptoms

Slow warm-up. Overheating on hills.

## Coolant table

| grade | interval |
| --- | --- |
| long-life | 5 years |
| standard | 2 years |
"""


def test_every_span_is_the_exact_text_of_its_chunk() -> None:
    long_doc = DOC + "\n## Long\n\n" + " ".join(f"Sentence {i} about pumps and hoses." for i in range(200)) + "\n"
    chunks = chunk_text(long_doc, "Cooling Manual", max_chars=300, overlap=60)
    assert len(chunks) > 5
    for c in chunks:
        assert long_doc[c.start:c.end] == c.text
        assert len(c.text) <= 300


def test_heading_paths_skip_the_document_title() -> None:
    chunks = chunk_text(DOC, "Cooling Manual", max_chars=200, overlap=0)
    by_text = {c.text.split("\n")[0]: c.heading for c in chunks}
    assert by_text["### Symptoms"] == "Thermostat > Symptoms"
    assert by_text["## Thermostat"] == "Thermostat"
    assert chunks[0].heading == ""


def test_a_table_that_fits_is_kept_whole() -> None:
    chunks = chunk_text(DOC, "Cooling Manual", max_chars=200, overlap=0)
    table = [c for c in chunks if "| grade |" in c.text]
    assert len(table) == 1 and "| standard | 2 years |" in table[0].text


def test_consecutive_chunks_of_a_long_section_overlap() -> None:
    body = "\n\n".join(f"Paragraph {i}: " + "word " * 20 for i in range(12))
    chunks = chunk_text("## Long\n\n" + body, "t", max_chars=400, overlap=150)
    assert len(chunks) >= 3
    for a, b in itertools.pairwise(chunks):
        assert b.start < a.end, "the next chunk starts inside the previous one"
        assert a.end - b.start <= 150
    no_overlap = chunk_text("## Long\n\n" + body, "t", max_chars=400, overlap=0)
    assert all(b.start >= a.end for a, b in itertools.pairwise(no_overlap))


def test_a_paragraph_longer_than_a_chunk_is_split_at_sentences_then_words() -> None:
    sentences = " ".join(f"Sentence number {i} is here." for i in range(40))
    chunks = chunk_text(sentences, "t", max_chars=120, overlap=0)
    assert all(len(c.text) <= 120 for c in chunks)
    assert all(c.text.endswith(".") for c in chunks[:-1])
    words = "x" * 50 + " " + "y" * 300
    assert all(len(c.text) <= 120 for c in chunk_text(words, "t", max_chars=120, overlap=0))
