"""The calculator the Reasoner computes with: right answers over named cells, and a clear refusal
of everything else (hostile input included), never an exception of another kind."""

from __future__ import annotations

import time

import pytest

from hil.agents.calc import CalcError, evaluate, is_percent

CELLS = {"r1.vehicles": 40.0, "r1.brake_services": 14.0, "r2.vehicles": 25.0, "r2.brake_services": 5.0,
         "vehicles": [40.0, 25.0], "brake_services": [14.0, 5.0], "r1.old": 150.0, "r1.new": 195.0}


@pytest.mark.parametrize(("expression", "value"), [
    ("1 + 2 * 3", 7.0),
    ("(1 + 2) * 3", 9.0),
    ("-r1.vehicles + 50", 10.0),
    ("+3", 3.0),
    ("2 ** 3", 8.0),
    ("2 ** -1", 0.5),
    ("r1.brake_services / r1.vehicles", 0.35),
    ("pct(r1.brake_services, r1.vehicles)", 35.0),
    ("share(r2.brake_services, r2.vehicles)", 20.0),
    ("growth(r1.new, r1.old)", 30.0),
    ("sum(vehicles)", 65.0),
    ("sum(r1.vehicles, r2.vehicles)", 65.0),
    ("avg(brake_services)", 9.5),
    ("mean(vehicles)", 32.5),
    ("min(vehicles)", 25.0),
    ("max(brake_services)", 14.0),
    ("pct(sum(brake_services), sum(vehicles))", 100 * 19 / 65),
    ("round(pct(r1.brake_services, r1.vehicles) / 3, 2)", 11.67),
    ("round(2.5)", 2.0),
    ("abs(r2.vehicles - r1.vehicles)", 15.0),
    ("1e3 * 2", 2000.0),
    ("(" * 190 + "1" + ")" * 190, 1.0),  # parentheses alone make no nodes: harmless
])
def test_expressions_over_cells(expression: str, value: float) -> None:
    assert evaluate(expression, CELLS).value == pytest.approx(value)


def test_the_cells_read_are_reported_in_order() -> None:
    assert evaluate("pct(r1.brake_services, r1.vehicles) + r1.brake_services", CELLS).cells == (
        "r1.brake_services", "r1.vehicles")
    assert evaluate("sum(vehicles)", CELLS).cells == ("vehicles",)


@pytest.mark.parametrize(("expression", "says"), [
    ("", "empty"),
    ("   ", "empty"),
    ("1 +", "not valid"),
    ("r9.vehicles", "unknown cell"),
    ("brakes", "unknown cell"),
    ("r1.__class__", "unknown cell"),
    ("vehicles.__class__.__bases__", "unknown cell"),
    ("(1).real", "attribute access"),
    ("__import__('os').system('id')", "not an allowed function"),
    ("open('/etc/passwd')", "not an allowed function"),
    ("eval('1')", "not an allowed function"),
    ("exec('x=1')", "not an allowed function"),
    ("r1.vehicles.bit_length()", "not an allowed function"),
    ("(lambda: 1)()", "not an allowed function"),
    ("lambda: 1", "Lambda is not allowed"),
    ("'a' * 3", "only numbers"),
    ("True + 1", "only numbers"),
    ("None", "only numbers"),
    ("1j", "only numbers"),
    ("[1, 2]", "List is not allowed"),
    ("vehicles[0]", "Subscript is not allowed"),
    ("1 if 1 else 2", "IfExp is not allowed"),
    ("1 < 2", "Compare is not allowed"),
    ("x := 1", "not valid"),
    ("7 // 2", "FloorDiv"),
    ("7 % 2", "Mod"),
    ("1 << 3", "LShift"),
    ("~1", "UnaryOp is not allowed"),
    ("not 1", "UnaryOp is not allowed"),
    ("1 / 0", "division by zero"),
    ("pct(1, 0)", "division by zero"),
    ("growth(5, 0)", "division by zero"),
    ("0 ** -1", "division by zero"),
    ("9 ** 9 ** 9", "exponents are limited"),
    ("10 ** 100", "exponents are limited"),
    ("1e300 * 1e300", "out of range"),
    ("99999999999 ** 8", "too large"),
    ("(-8) ** 0.5", "fractional exponent"),
    ("vehicles + 1", "is a column"),
    ("vehicles", "is a column"),
    ("abs(vehicles)", "is a column"),
    ("pct(brake_services, vehicles)", "is a column"),
    ("round(1.5, 20)", "digits"),
    ("round(1.5, 0.5)", "digits"),
    ("round()", "round takes"),
    ("pct(1)", "two values"),
    ("sum()", "at least one"),
    ("max(vehicles, key=abs)", "keyword"),
    ("sum(*vehicles)", "starred"),
    ("1 + " * 200 + "1", "longer than"),
    ("(" * 150 + "1" + ")" * 149, "not valid"),
    ("-" * 40 + "1", "nested more than"),
    ("+".join(["1"] * 100), "more than 120 parts"),
    ("9" * 390, "out of range"),
])
def test_hostile_or_malformed_expressions_are_refused_clearly(expression: str, says: str) -> None:
    with pytest.raises(CalcError, match=says):
        evaluate(expression, CELLS)


def test_nothing_but_calc_errors_escape_on_random_junk() -> None:
    junk = ["\x00", "1\n2", "import os", "def f(): pass", "yield 1", "await x", "f'{1}'", "b'1'", "{1: 2}",
            "{1}", "(1, 2)", "...", "1;2", "r1.vehicles = 3", "print(1)", "getattr(r1, 'x')", "globals()"]
    for text in junk:
        with pytest.raises(CalcError):
            evaluate(text, CELLS)


def test_a_hostile_expression_costs_little_time() -> None:
    t0 = time.perf_counter()
    for expression in ["9 ** 9 ** 9 ** 9", "(" * 200 + ")" * 200, "max(" * 60 + "1" + ")" * 60, "2 ** 8 ** 8"]:
        with pytest.raises(CalcError):
            evaluate(expression, CELLS)
    assert time.perf_counter() - t0 < 1.0


def test_percent_results_are_recognised() -> None:
    assert is_percent("pct(a, b)") and is_percent("round(growth(a, b), 1)") and is_percent("share(a, b)")
    assert not is_percent("a / b * 100") and not is_percent("sum(x)") and not is_percent("((")
