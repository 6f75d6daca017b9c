"""What the deterministic repairs do on a benchmark's gold queries, without a model:

- how many gold queries the schema check rejects (it should reject none: they run);
- how many the repair rewrites, and whether any rewritten one returns another result;
- with one column identifier misspelt per gold query (underscores dropped, CamelCase to
  snake_case, or a letter dropped), how many the check rejects and the repair restores to the
  gold result.

    python bench/sql_repair.py --benchmark ../shared/data/spider-train-sample [--split dev] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import re
import sqlite3
from collections import Counter

import sqlglot
from sqlglot import exp

from hil.agents.sql.knowledge import introspect
from hil.agents.sql.repair import repair
from hil.agents.sql.schema_check import schema_problems
from hil.connectors.base import Table
from hil.evals import benchmarks
from hil.workflows import SqlConnection


def misspell(name: str) -> str:
    if "_" in name:
        return name.replace("_", "")
    snake = re.sub(r"(?<=[a-z])([A-Z])", r"_\1", name).lower()
    return snake if snake != name.lower() else name[:-1]


def same(db: sqlite3.Connection, a: str, b: str) -> bool:
    try:
        return Counter(db.execute(a).fetchall()) == Counter(db.execute(b).fetchall())
    except sqlite3.Error:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark", required=True)
    parser.add_argument("--split", default="dev")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    bench = benchmarks.load(args.benchmark, args.split)
    rnd = random.Random(args.seed)
    schemas: dict[str, list[Table]] = {}
    rejected = rewritten = changed = tried = caught = restored = 0
    for item in bench.items:
        path = bench.databases[item.database]
        if item.database not in schemas:
            schemas[item.database] = introspect(SqlConnection(name="b", engine="sqlite", path=str(path)))
        tables = schemas[item.database]
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        gold = item.gold[0]
        rejected += bool(schema_problems(gold, "sqlite", tables))
        fixed, _ = repair(gold, "sqlite", tables)
        if fixed != gold:
            rewritten += 1
            changed += not same(db, fixed, gold)
        tree = sqlglot.parse_one(fixed, read="sqlite")
        columns = [c for c in tree.find_all(exp.Column) if not isinstance(c.this, exp.Star)]
        if columns:
            tried += 1
            col = rnd.choice(columns)
            col.set("this", exp.to_identifier(misspell(col.name)))
            bad = tree.sql(dialect="sqlite")
            if schema_problems(bad, "sqlite", tables):
                caught += 1
                restored += same(db, repair(bad, "sqlite", tables)[0], fixed)
        db.close()
    print(f"{len(bench.items)} gold queries: {rejected} rejected by the schema check; {rewritten} rewritten by the "
          f"repair, {changed} of them with another result")
    print(f"{tried} with one column misspelt: {caught} rejected by the check, {restored} repaired to the gold result")


if __name__ == "__main__":
    main()
