"""Text-to-SQL benchmarks on disk: the GeoQuery format (text2sql-data), the Spider format, and
hil's own (``questions.json``: questions with gold SQL on one SQLite or DuckDB database).

Both load into the same :class:`Benchmark`: items with a question, one or more gold queries and
the SQLite database they run on. Errors name the file and what is wrong with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from hil.errors import ConfigError

SplitBy = Literal["question", "query"]


@dataclass(frozen=True)
class Item:
    id: str
    question: str
    gold: tuple[str, ...]  # any of them counts as correct
    database: str  # key into Benchmark.databases


@dataclass
class Benchmark:
    name: str
    split: str
    items: list[Item]
    databases: dict[str, Path] = field(default_factory=dict)
    engine: str = "sqlite"  # or duckdb (hil's own format only)


def load(path: str | Path, split: str = "dev", split_by: SplitBy = "question",
         database: Path | None = None) -> Benchmark:
    root = Path(path).expanduser()
    if not root.is_dir():
        raise ConfigError(f"{root}: not a directory", hint="give the folder that holds questions.json (or a GeoQuery or Spider benchmark)")
    if (root / "questions.json").is_file():
        return load_questions(root, database)
    if (root / "tables.json").is_file():
        return load_spider(root, split)
    geo = [p for p in sorted(root.glob("*.json")) if p.with_suffix(".sqlite").is_file()]
    if geo:
        return load_geoquery(geo[0], split, split_by)
    raise ConfigError(f"{root}: not a benchmark folder I know",
                      hint="expected GeoQuery (NAME.json + NAME.sqlite), Spider (tables.json, SPLIT.json, database/) "
                           "or questions.json")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ConfigError(f"{path}: not valid JSON: {err.msg} (line {err.lineno})") from None


def _substitute(text: str, variables: dict[str, str]) -> str:
    for name in sorted(variables, key=len, reverse=True):  # state_name10 before state_name1
        text = text.replace(name, variables[name])
    return text


def load_geoquery(path: Path, split: str, split_by: SplitBy = "question") -> Benchmark:
    """text2sql-data format: groups of gold queries with placeholder variables, each with the
    sentences that ask them. ``split_by`` picks the question split (a question's paraphrases may
    be in train) or the query split (no gold query is shared between splits)."""
    groups = _read_json(path)
    if not isinstance(groups, list):
        raise ConfigError(f"{path}: expected a list of query groups")
    items: list[Item] = []
    splits: set[str] = set()
    for gi, group in enumerate(groups):
        try:
            gold_templates, sentences = group["sql"], group["sentences"]
        except (KeyError, TypeError):
            raise ConfigError(f"{path}: group {gi} has no 'sql' or 'sentences'") from None
        for si, s in enumerate(sentences):
            which = group.get("query-split") if split_by == "query" else s.get("question-split")
            splits.add(str(which))
            if which != split:
                continue
            variables = {str(k): str(v) for k, v in (s.get("variables") or {}).items()}
            gold = tuple(dict.fromkeys(_substitute(q, variables).strip().rstrip(";").strip() for q in gold_templates))
            items.append(Item(f"{gi}.{si}", _substitute(s["text"], variables), gold, path.stem))
    if not items:
        raise ConfigError(f"{path}: no questions in split {split!r} (by {split_by})",
                          hint=f"splits present: {', '.join(sorted(splits))}")
    return Benchmark(path.stem, split, items, {path.stem: path.with_suffix(".sqlite")})


SPIDER_SPLIT_FILES = {"dev": ("dev.json",), "train": ("train_spider.json", "train_others.json", "train.json"),
                      "test": ("test.json",)}


def load_spider(root: Path, split: str) -> Benchmark:
    files = [root / f for f in SPIDER_SPLIT_FILES.get(split, (f"{split}.json",)) if (root / f).is_file()]
    if not files:
        raise ConfigError(f"{root}: no file for split {split!r}",
                          hint=f"expected one of {', '.join(SPIDER_SPLIT_FILES.get(split, (split + '.json',)))}")
    items: list[Item] = []
    databases: dict[str, Path] = {}
    for f in files:
        entries = _read_json(f)
        for i, e in enumerate(entries):
            try:
                db, question, gold = e["db_id"], e["question"], e["query"]
            except (KeyError, TypeError):
                raise ConfigError(f"{f}: entry {i} needs db_id, question and query") from None
            db_path = root / "database" / db / f"{db}.sqlite"
            if db not in databases:
                if not db_path.is_file():
                    raise ConfigError(f"{f}: entry {i}: database {db!r} not found at {db_path}")
                databases[db] = db_path
            items.append(Item(f"{f.stem}.{i}", question, (gold.strip().rstrip(";"),), db))
    return Benchmark(root.name, split, items, databases)


def database_of(root: Path) -> str:
    """What questions.json names as its database: a path relative to the folder, or ``demo``."""
    return str(_read_json(root / "questions.json").get("database", ""))


def load_questions(root: Path, database: Path | None = None) -> Benchmark:
    """``questions.json``: {"engine": "sqlite"|"duckdb", "database": PATH, "questions": [{"id", "question",
    "query"}, ...]}; ``database`` (e.g. a freshly generated demo database) overrides the file's."""
    path = root / "questions.json"
    spec = _read_json(path)
    if not isinstance(spec, dict) or not isinstance(spec.get("questions"), list):
        raise ConfigError(f"{path}: expected {{\"engine\", \"database\", \"questions\": [...]}}")
    engine = str(spec.get("engine", "sqlite"))
    if engine not in ("sqlite", "duckdb"):
        raise ConfigError(f"{path}: engine must be sqlite or duckdb, not {engine!r}")
    db = database or root / str(spec.get("database", ""))
    if not db.is_file():
        raise ConfigError(f"{path}: database {db} not found", hint="pass --database PATH")
    items = []
    for i, q in enumerate(spec["questions"]):
        try:
            items.append(Item(str(q.get("id", i)), q["question"], (q["query"].strip().rstrip(";"),), root.name))
        except (KeyError, TypeError, AttributeError):
            raise ConfigError(f"{path}: question {i} needs question and query") from None
    return Benchmark(root.name, "dev", items, {root.name: db}, engine)
