"""Number verification: answers with planted wrong numbers and their correct counterparts. Every
wrong number is flagged and no correct one is."""

from __future__ import annotations

import pytest

from hil.agents.numbers import MARK, WITHHELD, Evidence, apply_policy, column_hints, mentions, states_any, verify

FLEET = Evidence.build(
    ["depot", "vehicles", "brake_services"], [["Central", 40, 14], ["North", 25, 5], ["South", 35, 7]],
    [{"name": "share_central", "result": 35.0, "unit": "%"}, {"name": "share_north", "result": 20.0, "unit": "%"},
     {"name": "share_south", "result": 20.0, "unit": "%"}, {"name": "total_brake_services", "result": 26.0}, {"name": "total_vehicles", "result": 100.0},
     {"name": "share_all", "result": 26.0, "unit": "%"}, {"name": "central_minus_north", "result": 15.0},
     {"name": "bad", "expression": "x(", "error": "not valid"}],
    ["Brake pads are replaced every 40,000 km. Long-haul trucks drove 1,250 miles on average."],
    "What share of vehicles at each depot had a brake service this year?")
FINANCE = Evidence.build(
    ["fiscal_year", "revenue_musd", "opex_kusd", "gross_margin_pct"],
    [[2023, 536.0, 132000.0, 40.5], [2024, 560.0, 134860.0, 42.9]],
    [{"name": "revenue_growth", "result": 4.477611940298507, "unit": "%"},
     {"name": "revenue_change", "result": 24.0, "scale": 1e6},
     {"name": "margin_change", "result": 2.4, "unit": "pp"},
     {"name": "margin_growth", "result": 5.925925925925926, "unit": "%"},
     {"name": "opex_total", "result": 266860.0, "scale": 1e3},
     {"name": "revenue_2024_share", "result": 51.09489051094891, "unit": "%"}],
    ["In fiscal 2024 the company acquired Brightline Analytics for $42 million in cash."],
    "How did the company do in 2024?")

# (evidence, correct answer, the same answer with one planted wrong number, the wrong number as written)
CASES = [
    ("changed digit", FLEET, "Central has 40 vehicles.", "Central has 41 vehicles.", "41"),
    ("changed digit", FLEET, "Central had 14 brake services.", "Central had 12 brake services.", "12"),
    ("changed digit", FINANCE, "Revenue was $560 million.", "Revenue was $650 million.", "$650 million"),
    ("changed digit", FINANCE, "Operating expenses were 134,860.", "Operating expenses were 134,680.", "134,680"),
    ("changed digit", FINANCE, "In 2024 revenue grew.", "In 2042 revenue grew.", "2042"),
    ("share", FLEET, "35% of Central's vehicles had a brake service.",
     "37.5% of Central's vehicles had a brake service.", "37.5%"),
    ("share", FLEET, "At North the share was 20%.", "At North the share was 25%.", "25%"),
    ("share", FLEET, "Across all depots the share was 26%.", "Across all depots the share was 29%.", "29%"),
    ("share", FINANCE, "2024 was 51.1% of two-year revenue.", "2024 was 52.1% of two-year revenue.", "52.1%"),
    ("share as fraction", FLEET, "A share of 0.35 at Central.", "A share of 0.53 at Central.", "0.53"),
    ("sum", FLEET, "There were 26 brake services in total.", "There were 28 brake services in total.", "28"),
    ("sum", FINANCE, "Two-year operating expenses were $266.86 million.",
     "Two-year operating expenses were $266.68 million.", "$266.68 million"),
    ("sum", FLEET, "The depots have 100 vehicles.", "The depots have 110 vehicles.", "110"),
    ("difference", FLEET, "Central has 15 more vehicles than North.", "Central has 16 more vehicles than North.",
     "16"),
    ("difference", FINANCE, "Revenue rose by $24 million.", "Revenue rose by $34 million.", "$34 million"),
    ("difference", FINANCE, "Revenue rose by $24 million.", "Revenue rose by $24 billion.", "$24 billion"),
    ("scale", FINANCE, "Revenue was $560 million.", "Revenue was $560 thousand.", "$560 thousand"),
    ("scale", FINANCE, "Revenue was $560M.", "Revenue was $560K.", "$560K"),
    ("scale", FINANCE, "Revenue was $0.56 billion.", "Revenue was $0.56 trillion.", "$0.56 trillion"),
    ("scale", FINANCE, "Operating expenses were $134.86 million.", "Operating expenses were $134.86 billion.",
     "$134.86 billion"),
    ("scale", FINANCE, "Operating expenses were $134,860 thousand.", "Operating expenses were $134,860 million.",
     "$134,860 million"),
    ("scale", FINANCE, "Operating expenses were $134,860,000.", "Operating expenses were $134,860,000,000.",
     "$134,860,000,000"),
    ("scale", FINANCE, "Brightline cost $42 million.", "Brightline cost $42 billion.", "$42 billion"),
    ("percent vs points", FINANCE, "Gross margin improved by 2.4 percentage points.",
     "Gross margin improved by 2.4%.", "2.4%"),
    ("percent vs points", FINANCE, "Gross margin improved by 5.9%.", "Gross margin improved by 5.9 percentage points.",
     "5.9 percentage points"),
    ("percent vs points", FINANCE, "Revenue grew 4.5%.", "Revenue grew 4.5 points.", "4.5 points"),
    ("unit", FLEET, "Trucks drove 1,250 miles on average.", "Trucks drove 1,250 km on average.", "1,250 km"),
    ("unit", FINANCE, "Brightline cost $42 million.", "Brightline cost €42 million.", "€42 million"),
    ("unit", FINANCE, "Brightline cost $42 million.", "Brightline cost 42%.", "42%"),
    ("unit", FLEET, "Pads last 40,000 km.", "Pads last 40,000 miles.", "40,000 miles"),
    ("rounding", FINANCE, "Revenue grew 4.5%.", "Revenue grew 4.4%.", "4.4%"),
    ("rounding", FINANCE, "Revenue grew 4.48%.", "Revenue grew 4.47%.", "4.47%"),
    ("rounding", FINANCE, "Gross margin rose 5.93%.", "Gross margin rose 5.92%.", "5.92%"),
    ("rounding", FINANCE, "Operating expenses were $134.9 million.", "Operating expenses were $134.8 million.",
     "$134.8 million"),
]


def test_the_fixture_is_large_enough() -> None:
    assert len(CASES) >= 30
    assert {c[0] for c in CASES} >= {"changed digit", "share", "sum", "difference", "scale", "percent vs points",
                                     "unit", "rounding"}


@pytest.mark.parametrize(("kind", "evidence", "right", "wrong", "planted"), CASES, ids=[
    f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_every_wrong_number_is_flagged_and_no_correct_one(kind: str, evidence: Evidence, right: str, wrong: str,
                                                          planted: str) -> None:
    good = verify(right, evidence)
    assert good.unverified == [], (kind, right, [m.text for m in good.unverified])
    bad = verify(wrong, evidence)
    assert [m.text for m in bad.unverified] == [planted], (kind, wrong)


def test_identifiers_dates_citations_and_small_counts_are_not_quantities() -> None:
    found = [m.text for m in mentions("VH-1042 (P0217) failed on 2026-03-01 at 10:30 [2]; 3 depots, Q3, 14.")]
    assert found == ["14"]


def test_verified_numbers_name_their_source() -> None:
    check = verify("Central: 35% (14 of 40 vehicles).", FLEET)
    assert [s["source"] for s in check.sources()] == ["calculation share_central", "r1.brake_services",
                                                      "r1.vehicles"]


def test_column_scales_and_units_come_from_names_and_notes() -> None:
    assert column_hints("revenue_musd") == (1e6, "usd")
    assert column_hints("amount_kusd") == (1e3, "usd")
    assert column_hints("share_pct") == (None, "%")
    assert column_hints("cost_usd") == (None, "usd")
    assert column_hints("amount", "Operating expenses (column amount) are reported in thousands of US dollars.") \
        == (1e3, None)
    assert column_hints("amount") == (None, None)


def test_a_scale_from_the_notes_flags_a_wrong_scale() -> None:
    ev = Evidence.build(["segment", "revenue"], [["Cloud", 195.0]], [], ["Column revenue is reported in millions."],
                        "Cloud revenue?")
    assert not verify("Cloud revenue was $195 million.", ev).unverified
    assert [m.text for m in verify("Cloud revenue was $195 thousand.", ev).unverified] == ["$195 thousand"]


def test_policy_marks_or_withholds_every_unverified_number() -> None:
    text = "Central 37.5% and North 20%."
    bad = verify(text, FLEET).unverified
    marked = apply_policy(text, bad, "mark")
    assert marked == f"Central 37.5% {MARK} and North 20%."
    assert verify(marked, FLEET).unverified == []  # a marked number is no longer silent
    assert apply_policy(text, bad, "withhold") == f"Central {WITHHELD} and North 20%."


def test_scoring_accepts_the_expected_number_within_its_rounding() -> None:
    assert states_any("Hardware was 46.6% of revenue.", [46.607])
    assert states_any("Hardware was 47% of revenue.", [46.607])
    assert states_any("a share of 0.466", [46.607])
    assert not states_any("Hardware was 44% of revenue.", [46.607])
    assert not states_any("I cannot tell.", [46.607])
