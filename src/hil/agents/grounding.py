"""Checks an answer against the evidence it was written from.

Small models copy numbers faithfully but invent identifiers and forget citation markers. These
checks are deterministic, so the Responder can tell the model exactly what to fix, and the final
answer event can say which of its numbers and identifiers were found in the evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

NUMBER = re.compile(r"(?<![\w.])-?\d+(?:[.,]\d+)*(?![\w])")
# Codes and ids: letters then digits, optionally hyphenated (VH-1042, P0217, INV_2024-07).
IDENTIFIER = re.compile(r"\b[A-Za-z]{1,6}[-_]?\d{2,}(?:[-_][A-Za-z0-9]+)*\b")
CITATION = re.compile(r"\[(\d{1,2})\]")
SENTENCE = re.compile(r"(?:[^.!?\n]|(?<=\d)\.(?=\d))+[.!?]*")  # "4.3%" does not end a sentence
WORD = re.compile(r"[a-z][a-z-]{3,}")
STOPWORDS = frozenset({
    "about", "above", "after", "again", "also", "been", "before", "being", "below", "between", "both",
    "could", "does", "doing", "down", "during", "each", "from", "further", "have", "having", "here", "into",
    "itself", "just", "more", "most", "must", "only", "other", "over", "same", "should", "some", "such",
    "than", "that", "their", "them", "then", "there", "these", "they", "this", "those", "through", "under",
    "until", "very", "were", "what", "when", "where", "which", "while", "will", "with", "would", "your",
    "first",
})


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in NUMBER.findall(text)}


def verify_numbers(answer: str, evidence: str, question: str) -> tuple[list[str], list[str]]:
    """Split the answer's numbers into those found in the evidence or question, and the rest."""
    known = _numbers(evidence) | _numbers(question)
    found = sorted(_numbers(IDENTIFIER.sub(" ", answer)) - {str(i) for i in range(1, 10)}, key=lambda s: (len(s), s))
    verified = [n for n in found if n in known or n.rstrip("0").rstrip(".") in known]
    return verified, [n for n in found if n not in verified]


def verify_identifiers(answer: str, evidence: str, question: str) -> tuple[list[str], list[str]]:
    """Split the answer's identifiers into those present in the evidence or question, and the rest."""
    known = {i.upper() for i in IDENTIFIER.findall(evidence + "\n" + question)}
    found = sorted({i.upper() for i in IDENTIFIER.findall(answer)})
    return [i for i in found if i in known], [i for i in found if i not in known]


def contradicted_row_claims(answer: str, rows: list[list[Any]], question: str, documents: str = "") -> list[str]:
    """Numbers the answer states next to a row's identifier that are not values of that row.

    "VH-1012 had 10 faults" when the row says ``VH-1012 | 1`` is caught here even though 10
    may well appear somewhere else in the evidence. Numbers from the question and from the
    document passages (which may say more about the same item) are allowed.
    """
    values: dict[str, set[str]] = {}
    for row in rows:
        cells = [str(v) for v in row if v is not None]
        ids = [c.upper() for c in cells if IDENTIFIER.fullmatch(c)]
        numbers = _numbers(" ".join(c for c in cells if not IDENTIFIER.fullmatch(c)))
        for ident in ids:
            values.setdefault(ident, set()).update(numbers)
    allowed = _numbers(question) | _numbers(IDENTIFIER.sub(" ", documents))
    problems: list[str] = []
    for clause in re.split(r"\n|;|(?<=[.!?])\s", CITATION.sub(" ", answer)):
        found = list(IDENTIFIER.finditer(clause))
        for k, m in enumerate(found):
            row_values = values.get(m.group(0).upper())
            if row_values is None:
                continue
            window = clause[m.end():found[k + 1].start() if k + 1 < len(found) else len(clause)]
            for n in sorted(_numbers(window)):
                if n not in row_values and n not in allowed and n.rstrip("0").rstrip(".") not in row_values:
                    problems.append(f"{m.group(0)}: {n} (the result says {', '.join(sorted(row_values)) or 'nothing'})")
    return problems


NOT_RETURNED = "[not in the query result]"


def _named(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])")


def _uncited_sentences(answer: str) -> list[re.Match[str]]:
    return [m for m in SENTENCE.finditer(answer) if not CITATION.search(m.group(0))]


def names_not_returned(answer: str, left_out: dict[str, list[str]], question: str) -> list[str]:
    """Names of a result column that the query did not return, stated where no passage is cited.

    "The depots with the most were Central and South, with 17 and 17" when the query returned
    Central alone: South is a depot, not in the result, and the sentence cites no document that
    could have said it. A name the question gives is the reader's own and passes."""
    found: list[str] = []
    asked = question.lower()
    for sentence in _uncited_sentences(answer):
        for names in left_out.values():
            for name in names:
                if name not in found and name.lower() not in asked and _named(name).search(sentence.group(0)):
                    found.append(name)
    return found


def mark_names_not_returned(answer: str, names: list[str]) -> str:
    """Each of ``names`` marked where an uncited sentence states it, as an unverified number is:
    the reader sees which item the query did not return."""
    for sentence in reversed(_uncited_sentences(answer)):
        text = sentence.group(0)
        for name in names:
            text = _named(name).sub(_marked, text)
        answer = answer[:sentence.start()] + text + answer[sentence.end():]
    return answer


def _marked(m: re.Match[str]) -> str:
    done = m.string[m.end():].startswith(f" {NOT_RETURNED}")
    return m.group(0) if done else f"{m.group(0)} {NOT_RETURNED}"


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> set[str]:
    return {_stem(w) for w in WORD.findall(text.lower()) if w not in STOPWORDS}


def attach_citations(answer: str, passages: list[dict[str, Any]], data: str = "", min_shared: int = 3,
                     min_ratio: float = 0.3) -> str:
    """Add a ``[n]`` marker to each uncited sentence that a passage clearly supports.

    A sentence is supported when it shares at least ``min_shared`` content words with the
    passage and those make up at least ``min_ratio`` of the sentence's content words. Sentences
    that already cite something are left alone, so markers the model wrote always win; so are
    sentences naming identifiers from ``data`` (query results), which the data supports.
    """
    data_ids = {i.upper() for i in IDENTIFIER.findall(data)}
    vocab = [(p["ref"], content_words(p["text"])) for p in passages]
    if not vocab:
        return answer
    # Words most passages share are the corpus's topic (every fleet manual says "vehicle"), not
    # evidence that one passage supports a sentence: they do not count.
    if len(vocab) >= 3:
        seen: dict[str, int] = {}
        for _ref, words in vocab:
            for w in words:
                seen[w] = seen.get(w, 0) + 1
        topic = {w for w, n in seen.items() if n > len(vocab) / 2}
        vocab = [(ref, words - topic) for ref, words in vocab]
    pieces, pos = [], 0
    for match in SENTENCE.finditer(answer):
        sentence = match.group(0)
        words = content_words(sentence)
        names_data = any(i.upper() in data_ids for i in IDENTIFIER.findall(sentence))
        if words and not CITATION.search(sentence) and not names_data:
            shared, ref = max(((len(words & v), ref) for ref, v in vocab), key=lambda s: (s[0], -s[1]))
            if shared >= min_shared and shared / len(words) >= min_ratio:
                body = sentence.rstrip()
                end = len(body.rstrip(".!?"))
                sentence = f"{body[:end]} [{ref}]{body[end:]}{sentence[len(body):]}"
        pieces += [answer[pos:match.start()], sentence]
        pos = match.end()
    pieces.append(answer[pos:])
    return "".join(pieces)


@dataclass
class GroundingReport:
    verified_numbers: list[str] = field(default_factory=list)
    unverified_numbers: list[str] = field(default_factory=list)
    verified_identifiers: list[str] = field(default_factory=list)
    unverified_identifiers: list[str] = field(default_factory=list)
    contradicted: list[str] = field(default_factory=list)
    names_not_returned: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """What a revision must fix, in words the model can act on."""
        out = [f"{', '.join(self.unverified_identifiers)} do not appear in the evidence"] \
            if self.unverified_identifiers else []
        if self.names_not_returned:
            out.append(f"{', '.join(self.names_not_returned)} {'is' if len(self.names_not_returned) == 1 else 'are'} "
                       "not in the query result: name only the items it lists")
        return out + [f"wrong number for {c}" for c in self.contradicted]

    def to_dict(self) -> dict[str, list[str]]:
        return {"verified_numbers": self.verified_numbers, "unverified_numbers": self.unverified_numbers,
                "verified_identifiers": self.verified_identifiers,
                "unverified_identifiers": self.unverified_identifiers, "contradicted": self.contradicted,
                "names_not_returned": self.names_not_returned}


def check(answer: str, evidence: str, question: str, rows: list[list[Any]] | None = None,
          documents: str = "", left_out: dict[str, list[str]] | None = None) -> GroundingReport:
    vn, un = verify_numbers(answer, evidence, question)
    vi, ui = verify_identifiers(answer, evidence, question)
    return GroundingReport(vn, un, vi, ui, contradicted_row_claims(answer, rows or [], question, documents),
                           names_not_returned(answer, left_out or {}, question))
