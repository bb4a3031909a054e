"""The analyst pages' pure parts: months, percentages, rank moves, drill-down addresses, chart
options, and the district boundaries they draw (no server, no browser)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import yaml

from console.pages.analytics import GEOJSON
from console.pages.analytics_view import (
    Month,
    appeals_href,
    counts_by_district,
    drill_href,
    export_href,
    pct,
    points,
    rank_move,
    trend_option,
)
from seed.geo import decode_ring

ROOT = Path(__file__).resolve().parents[2]


def test_months_parse_shift_and_run_back_over_the_year():
    assert Month.parse(None, date(2026, 12, 3)) == Month(2026, 12)
    may = Month.parse("2018-05", date(2026, 12, 3))
    assert (may.first, may.last) == (date(2018, 5, 1), date(2018, 5, 31))
    assert Month(2024, 2).last == date(2024, 2, 29)
    assert [m.label for m in Month(2018, 2).back(4)] == ["2017-11", "2017-12", "2018-01", "2018-02"]
    assert Month(2018, 12).shift(1) == Month(2019, 1) and Month(2018, 1).shift(-1) == Month(2017, 12)
    for bad in ("2018-13", "2018-00", "18-05", "2018/05", "1200-01"):
        with pytest.raises(ValueError):
            Month.parse(bad, date(2026, 12, 3))


def test_rates_read_as_percentages_and_points():
    assert pct(2 / 3) == "66.7%" and pct(None) == "—" and pct(1.0, 0) == "100%"
    assert points(-0.3467) == {"text": "-34.7", "cls": "down"}
    assert points(0.15) == {"text": "+15.0", "cls": "up"}
    assert points(0.0) == {"text": "±0.0", "cls": "same"} and points(None)["cls"] == "none"


def test_a_rank_moves_up_when_its_number_falls():
    assert rank_move(1, 3) == {"cls": "up", "arrow": "▲", "by": 2}
    assert rank_move(3, 1) == {"cls": "down", "arrow": "▼", "by": 2}
    assert rank_move(2, 2)["cls"] == "same"
    assert rank_move(4, None)["cls"] == "new" and rank_move(None, 2)["cls"] == "none"


def test_drill_down_and_csv_addresses():
    assert appeals_href("base", period="2018-05", unit="110101-ANDINGMEN", district=None) == (
        "/console/analytics/appeals?period=2018-05&measure=base&unit=110101-ANDINGMEN"
    )
    assert appeals_href("resolved", first=date(2018, 1, 1), last=date(2018, 1, 31)) == (
        "/console/analytics/appeals?from=2018-01-01&to=2018-01-31&measure=resolved"
    )
    assert drill_href("/analytics/drilldown?from=2018-05-01&to=2018-05-31&district=110101") == (
        "/console/analytics/drill?from=2018-05-01&to=2018-05-31&district=110101"
    )
    with pytest.raises(ValueError):
        drill_href("https://elsewhere.example/analytics/drilldown?x=1")
    assert (
        export_href("rates", period="2018-05", unit_class=None) == "/console/analytics/export/rates.csv?period=2018-05"
    )


def test_the_trend_has_a_line_per_rate_and_a_gap_where_a_month_had_no_base():
    rows = {"2018-01": {"rates": {"response": 0.5, "resolution": 1.0, "satisfaction": 0.95, "composite": 0.93}}}
    option = trend_option(
        ["2017-12", "2018-01"],
        rows,
        {"response": "响应率", "resolution": "解决率"},
        {"response": [None, "/console/analytics/appeals?x"]},
    )
    assert option["xAxis"]["data"] == ["2017-12", "2018-01"]
    response, resolution = option["series"]
    assert response["data"] == ["-", {"value": 50.0, "href": "/console/analytics/appeals?x"}]
    assert resolution["data"] == ["-", {"value": 100.0}]


def test_hot_spot_cells_add_up_per_district():
    cells = [
        {"place": {"code": "110101"}, "count": 4},
        {"place": {"code": "110101"}, "count": 5},
        {"place": {"code": "110105"}, "count": 3},
        {"place": {"code": None}, "count": 7},
    ]
    assert counts_by_district(cells) == {"110101": 9, "110105": 3}


def test_the_district_boundaries_are_beijings_16_districts_small_and_closed():
    assert GEOJSON == ROOT / "seed" / "data" / "beijing_districts.geojson"
    assert GEOJSON.stat().st_size < 300_000
    collection = json.loads(GEOJSON.read_text(encoding="utf-8"))
    districts = {d["code"]: d for d in yaml.safe_load((ROOT / "seed" / "data" / "districts.yaml").read_text())}
    features = {f["properties"]["code"]: f for f in collection["features"]}
    assert set(features) == set(districts)
    for code, f in features.items():
        assert f["properties"]["name_zh"] == districts[code]["name_zh"]
        polygons = (
            f["geometry"]["coordinates"] if f["geometry"]["type"] == "MultiPolygon" else [f["geometry"]["coordinates"]]
        )
        for ring in (r for p in polygons for r in p):
            assert ring[0] == ring[-1] and len(ring) >= 4
            assert all(115.3 < x < 117.6 and 39.4 < y < 41.1 for x, y in ring), code
    assert "MIT" in (ROOT / "seed" / "data" / "README.md").read_text()


def test_echarts_compressed_rings_decode():
    # two zigzag-encoded deltas from (1024, 2048): (+1, -1) then (0, +2), in 1/1024 degree
    encoded = chr(64 + 2) + chr(64 + 1) + chr(64 + 0) + chr(64 + 4)
    assert decode_ring(encoded, [1024, 2048]) == [[1.001, 1.999], [1.001, 2.001], [1.001, 1.999]]


def test_every_word_the_analyst_templates_use_is_registered():
    import re

    import console.pages.analytics  # noqa: F401  (registers the words)
    from console import i18n

    templates = ROOT / "console" / "templates"
    used = set()
    for path in [*(templates / "analytics").glob("*.html"), templates / "parts" / "district_map.html"]:
        used |= set(re.findall(r"\bt\('([a-z_.\-]+)'", path.read_text(encoding="utf-8")))
    literal = {k for k in used if not k.startswith(".") and not k.endswith(".")}  # not 'an.tab.' ~ name
    assert literal and [k for k in sorted(literal) if not i18n.known(k)] == []
