import pytest

from domain.routing import NoRoute, Rule, category_lineage, choose_unit

PARENTS = {"MUNI": None, "MUNI.LIGHT": "MUNI", "MUNI.ROAD": "MUNI", "COMM": None, "COMM.PROP": "COMM"}
BACKSTOPS = {"110101": "110101-GOV", "110105": "110105-GOV"}
RULES = [
    Rule("MUNI.LIGHT", "BJ-LIGHTING"),
    Rule("MUNI", "BJ-CGW"),
    Rule("MUNI", "110105-CGW", district="110105"),
    Rule("MUNI", "110105-DLYH", street="110105-YAYUNCUN"),
    Rule("COMM", None, to_local_street=True),
]


def route(category, district=None, street=None):
    return choose_unit(
        category_lineage(category, PARENTS), RULES, district=district, street=street, backstops=BACKSTOPS
    )


def test_leaf_rule_wins_over_parent_rule_even_when_the_parent_rule_is_more_local():
    r = route("MUNI.LIGHT", "110105", "110105-YAYUNCUN")
    assert (r.unit, r.reason, r.category) == ("BJ-LIGHTING", "rule", "MUNI.LIGHT")


def test_street_rule_beats_district_rule_beats_city_rule():
    assert route("MUNI.ROAD", "110105", "110105-YAYUNCUN").unit == "110105-DLYH"
    assert route("MUNI.ROAD", "110105", "110105-CHAOWAI").unit == "110105-CGW"
    assert route("MUNI.ROAD", "110101", "110101-ANDINGMEN").unit == "BJ-CGW"


def test_local_street_rule_sends_to_the_street_where_it_happened():
    r = route("COMM.PROP", "110105", "110105-CHAOWAI")
    assert (r.unit, r.reason) == ("110105-CHAOWAI", "local_street")


def test_district_government_is_the_backstop():
    assert route("COMM.PROP", "110101").unit == "110101-GOV"  # local rule, but no street given
    assert route("UNKNOWN", "110105").reason == "backstop"


def test_no_rule_and_no_district_needs_the_operator():
    with pytest.raises(NoRoute):
        route("UNKNOWN")


def test_lineage_survives_a_cycle_in_bad_data():
    assert category_lineage("A", {"A": "B", "B": "A"}) == ["A", "B"]
