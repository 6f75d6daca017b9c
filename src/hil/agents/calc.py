"""A small, safe calculator for the numbers an answer derives from query results.

Expressions are parsed with ``ast.parse(mode="eval")`` and walked by hand; nothing is ever passed
to ``eval``. What an expression may hold:

- numbers (int or float literals), and named cells given by the caller: ``r1.brake_services`` is
  one cell (row 1, column ``brake_services``), a bare column name such as ``brake_services`` is
  the column's values over all rows (a vector, usable only inside an aggregate);
- ``+ - * / **`` (the exponent is bounded), unary minus and plus, parentheses;
- the functions ``sum``, ``avg``/``mean``, ``min``, ``max``, ``round(x, digits)``, ``abs``,
  ``pct(part, whole)`` / ``share(part, whole)`` (a percentage) and ``growth(new, old)`` (a
  percentage change).

Anything else — attribute access other than a known cell, calls of other names, subscripts,
comparisons, strings, lambdas — is refused with a :class:`CalcError` that says what was wrong.
Sizes are bounded (expression length, node count, nesting, magnitudes), so a hostile expression
costs microseconds.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

MAX_CHARS = 400
MAX_NODES = 120
MAX_DEPTH = 30
MAX_EXPONENT = 8
MAX_MAGNITUDE = 1e18

Value = float | list[float]


class CalcError(ValueError):
    """An expression that cannot be evaluated: the message says why, in words a model can act on."""


@dataclass(frozen=True)
class Result:
    value: float
    cells: tuple[str, ...]  # the cell names the expression read, in order of first use


def _check(x: float) -> float:
    if math.isnan(x) or math.isinf(x) or abs(x) > MAX_MAGNITUDE:
        raise CalcError("the result is out of range (not finite or too large)")
    return x


def _scalar(v: Value, what: str) -> float:
    if isinstance(v, list):
        raise CalcError(f"{what} is a column (all rows); use sum(), avg(), min() or max() over it, "
                        "or name one row's cell like r1.column")
    return v


def _flatten(args: Sequence[Value]) -> list[float]:
    out: list[float] = []
    for a in args:
        out.extend(a if isinstance(a, list) else [a])
    if not out:
        raise CalcError("an aggregate needs at least one value")
    return out


def _div(a: float, b: float) -> float:
    if b == 0:
        raise CalcError("division by zero")
    return a / b


def _round(args: Sequence[Value]) -> float:
    if not 1 <= len(args) <= 2:
        raise CalcError("round takes a value and, optionally, a number of digits")
    digits = _scalar(args[1], "round's digits") if len(args) == 2 else 0
    if digits != int(digits) or not 0 <= digits <= 10:
        raise CalcError("round's digits must be a whole number from 0 to 10")
    return round(_scalar(args[0], "round's value"), int(digits))


def _two(name: str, args: Sequence[Value]) -> tuple[float, float]:
    if len(args) != 2:
        raise CalcError(f"{name} takes two values, e.g. {name}(a, b)")
    return _scalar(args[0], f"{name}'s first value"), _scalar(args[1], f"{name}'s second value")


def _pct(args: Sequence[Value]) -> float:
    part, whole = _two("pct", args)
    return 100 * _div(part, whole)


def _growth(args: Sequence[Value]) -> float:
    new, old = _two("growth", args)
    return 100 * _div(new - old, abs(old))


def _abs(args: Sequence[Value]) -> float:
    if len(args) != 1:
        raise CalcError("abs takes one value")
    return abs(_scalar(args[0], "abs's value"))


FUNCTIONS: dict[str, Callable[[Sequence[Value]], float]] = {
    "sum": lambda a: math.fsum(_flatten(a)),
    "avg": lambda a: math.fsum(v := _flatten(a)) / len(v),
    "mean": lambda a: math.fsum(v := _flatten(a)) / len(v),
    "min": lambda a: min(_flatten(a)),
    "max": lambda a: max(_flatten(a)),
    "round": _round,
    "abs": _abs,
    "pct": _pct,
    "share": _pct,
    "growth": _growth,
}
# what a function's result is, for the unit a calculation reports
PERCENT_FUNCTIONS = frozenset({"pct", "share", "growth"})


def dotted(node: ast.expr) -> str | None:
    """``r1.brake_services`` -> "r1.brake_services"; anything but names joined by dots -> None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


class _Walker:
    def __init__(self, cells: Mapping[str, Value]):
        self.cells = cells
        self.used: list[str] = []

    def eval(self, node: ast.expr, depth: int = 0) -> Value:
        if depth > MAX_DEPTH:
            raise CalcError(f"the expression is nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise CalcError(f"only numbers may appear as constants, not {node.value!r}"[:120])
            if isinstance(node.value, int) and abs(node.value) > MAX_MAGNITUDE:
                raise CalcError("a number in the expression is out of range (too large)")
            return _check(float(node.value))
        if isinstance(node, (ast.Name, ast.Attribute)):
            name = dotted(node)
            if name is None:
                raise CalcError("attribute access is not allowed; name a cell like r1.column")
            if name not in self.cells:
                raise CalcError(f"unknown cell {name!r}; use the cell names shown with the result")
            if name not in self.used:
                self.used.append(name)
            return self.cells[name]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = _scalar(self.eval(node.operand, depth + 1), "the value after a sign")
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            return self._binop(node, depth)
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        raise CalcError(f"{type(node).__name__} is not allowed; use numbers, cells, + - * / **, parentheses "
                        f"and {', '.join(sorted(FUNCTIONS))}")

    def _binop(self, node: ast.BinOp, depth: int) -> float:
        a = _scalar(self.eval(node.left, depth + 1), "the left side of an operator")
        b = _scalar(self.eval(node.right, depth + 1), "the right side of an operator")
        op = node.op
        if isinstance(op, ast.Add):
            return _check(a + b)
        if isinstance(op, ast.Sub):
            return _check(a - b)
        if isinstance(op, ast.Mult):
            return _check(a * b)
        if isinstance(op, ast.Div):
            return _check(_div(a, b))
        if isinstance(op, ast.Pow):
            if abs(b) > MAX_EXPONENT:
                raise CalcError(f"exponents are limited to {MAX_EXPONENT}")
            if a < 0 and b != int(b):
                raise CalcError("a negative number cannot have a fractional exponent")
            if a == 0 and b < 0:
                raise CalcError("division by zero")
            if abs(a) > 1e9:
                raise CalcError("the base of a power is too large")
            return _check(float(a ** b))
        raise CalcError(f"the operator {type(op).__name__} is not allowed; use + - * / **")

    def _call(self, node: ast.Call, depth: int) -> float:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            name = dotted(node.func) or type(node.func).__name__
            raise CalcError(f"{name}() is not an allowed function; use {', '.join(sorted(FUNCTIONS))}")
        if node.keywords:
            raise CalcError(f"{node.func.id}() takes no keyword arguments")
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise CalcError("starred arguments are not allowed")
        args = [self.eval(a, depth + 1) for a in node.args]
        name = node.func.id
        if name not in ("sum", "avg", "mean", "min", "max"):
            args = [_scalar(a, f"an argument of {name}()") for a in args]
        return _check(FUNCTIONS[name](args))


def evaluate(expression: str, cells: Mapping[str, Value]) -> Result:
    """Evaluate ``expression`` over ``cells`` (name -> number, or column name -> numbers)."""
    if not isinstance(expression, str) or not expression.strip():
        raise CalcError("the expression is empty")
    if len(expression) > MAX_CHARS:
        raise CalcError(f"the expression is longer than {MAX_CHARS} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as err:
        raise CalcError(f"the expression is not valid: {getattr(err, 'msg', None) or err}") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise CalcError(f"the expression has more than {MAX_NODES} parts")
    walker = _Walker(cells)
    value = _scalar(walker.eval(tree.body), "the result")
    return Result(value, tuple(walker.used))


def is_percent(expression: str) -> bool:
    """Whether the expression's outermost function gives a percentage (pct, share, growth, or a
    round of one)."""
    try:
        node = ast.parse(expression.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "round" and node.args:
        node = node.args[0]
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in PERCENT_FUNCTIONS


def constants(expression: str) -> list[float]:
    """The numbers written into an expression (not read from cells)."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    return [float(n.value) for n in ast.walk(tree) if isinstance(n, ast.Constant)
            and isinstance(n.value, (int, float)) and not isinstance(n.value, bool)]
