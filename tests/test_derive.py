"""Cell names and the rules that propose derived numbers without a model."""

from __future__ import annotations

from hil.agents import calc, derive


def test_cells_are_named_by_row_and_column_and_columns_are_vectors() -> None:
    t = derive.table_of(["Depot", "Vehicles", "Brake Services", "2024"], [["Central", 40, 14, 1], ["North", 25, 5, 2]])
    assert t.columns == ["depot", "vehicles", "brake_services", "c_2024"]
    assert t.cells["r2.brake_services"] == 5.0 and t.cells["vehicles"] == [40.0, 25.0]
    assert t.labels == ["Depot = Central", "Depot = North"]
    assert t.text().splitlines()[1] == "r1 | Central | 40 | 14 | 1"
    dup = derive.table_of(["n", "n", "r1"], [[1, 2, 3]])
    assert dup.columns == ["n", "n_2", "c_r1"]


def test_text_and_missing_values_are_not_cells() -> None:
    t = derive.table_of(["depot", "n"], [["A", None], ["B", 3], ["C", True]])
    assert "n" not in t.numeric and t.cells == {"r2.n": 3.0}


def test_shares_use_the_column_every_other_fits_under_as_the_whole() -> None:
    t = derive.table_of(["depot", "brake", "vehicles"], [["A", 14, 40], ["B", 5, 25]])
    found = {p.name: p.expression for p in derive.rules("What share of vehicles had a brake service?", t)}
    assert found == {"share_brake_depot_a": "pct(r1.brake, r1.vehicles)",
                     "share_brake_depot_b": "pct(r2.brake, r2.vehicles)", "share_brake_all": "pct(sum(brake), sum(vehicles))"}


def test_a_truncated_result_gets_no_aggregates() -> None:
    t = derive.table_of(["depot", "n"], [["A", 1], ["B", 2]], complete=False)
    assert derive.rules("What is the total and the average of n?", t) == []


def test_changes_follow_the_period_column_whatever_the_row_order() -> None:
    t = derive.table_of(["fiscal_year", "revenue"], [[2024, 195.0], [2023, 150.0]])
    found = {p.name: p.expression for p in derive.rules("How much did revenue grow?", t)}
    assert found == {"change_revenue": "r1.revenue - r2.revenue", "growth_revenue": "growth(r1.revenue, r2.revenue)"}
    assert calc.evaluate(found["growth_revenue"], t.cells).value == 30.0


def test_a_lookup_question_proposes_nothing() -> None:
    t = derive.table_of(["vehicle_id", "faults"], [["VH-1", 4], ["VH-2", 3]])
    assert derive.rules("Which vehicles have the most faults?", t) == []
    assert not derive.needs_derivation("Which vehicles have the most faults?")


def test_a_calculation_over_a_repeated_row_is_recognised() -> None:
    t = derive.table_of(["growth_percentage"], [[130.0], [130.0], [130.0]])
    used = calc.evaluate("growth(r2.growth_percentage, r1.growth_percentage)", t.cells).cells
    assert derive.repeated_rows(t, used) == (1, 2)
    other = derive.table_of(["year", "v"], [[2023, 1.0], [2024, 1.0]])
    assert derive.repeated_rows(other, ("r1.v", "r2.v")) is None  # equal values, different rows
