"""The reference data: complete, consistent, and idempotent to load."""

from datetime import date

import pytest
import sqlalchemy as sa

from db.migrate import migrate
from db.session import make_engine
from seed.load import load_reference_data, read, routing_rows
from tests.conftest import settings_for


async def scalar(engine, sql: str, **params):
    async with engine.connect() as conn:
        return await conn.scalar(sa.text(sql), params)


async def test_loading_twice_changes_nothing(engine):
    counts = await load_reference_data(engine)
    assert set(counts) == {"districts", "units", "categories", "routing_rules", "time_limit_policies", "calendar_days"}
    assert all(v == 0 for v in counts.values()), counts


async def test_a_changed_row_is_restored_and_only_that_row_is_written(pg_server):
    engine = make_engine(settings_for(await pg_server.create_database("jiesu_seed")))
    try:
        first = await migrate(engine)
        assert first["units"] >= 16 * 4
        async with engine.begin() as conn:
            await conn.execute(sa.text("UPDATE unit SET name_en = 'edited' WHERE code = 'BJ-LIGHTING'"))
        again = await load_reference_data(engine)
        assert again["units"] == 1 and sum(again.values()) == 1
        assert await scalar(engine, "SELECT name_en FROM unit WHERE code = 'BJ-LIGHTING'") != "edited"
    finally:
        await engine.dispose()


async def test_sixteen_districts_each_with_a_government_and_three_streets(engine):
    assert await scalar(engine, "SELECT count(*) FROM district") == 16
    rows = await _rows(
        engine,
        """SELECT d.code,
                  count(*) FILTER (WHERE u.kind = 'district_government'),
                  count(*) FILTER (WHERE u.kind IN ('street', 'township'))
           FROM district d LEFT JOIN unit u ON u.district_code = d.code GROUP BY d.code""",
    )
    for code, governments, streets in rows:
        assert governments == 1, code
        assert streets >= 3, code


@pytest.mark.parametrize(
    ("name", "district"),
    [("朝外街道", "110105"), ("安定门街道", "110101"), ("亚运村街道", "110105"), ("永定路街道", "110108")],
)
async def test_the_streets_of_the_seed_stories_exist(engine, name, district):
    assert await scalar(
        engine, "SELECT district_code FROM unit WHERE name_zh = :n AND kind = 'street'", n=name
    ) == district


@pytest.mark.parametrize(
    "name",
    ["北京市城市管理委员会", "北京市住房和城乡建设委员会", "北京市园林绿化局", "北京市交通委员会",
     "北京市市场监督管理局", "北京市规划和自然资源委员会", "北京市卫生健康委员会", "北京市教育委员会",
     "北京市人力资源和社会保障局", "北京市民政局", "北京市城市照明管理中心"],
)
async def test_main_municipal_departments_exist(engine, name):
    assert await scalar(engine, "SELECT count(*) FROM unit WHERE name_zh = :n", n=name) == 1


async def test_public_service_enterprises_for_water_power_gas_heating(engine):
    codes = {r[0] for r in await _rows(engine, "SELECT code FROM unit WHERE kind = 'public_service_enterprise'")}
    assert {"BJ-WATER", "BJ-POWER", "BJ-GAS", "BJ-HEAT"} <= codes


async def test_catalogue_is_large_enough_and_every_category_is_routed(engine):
    assert await scalar(engine, "SELECT count(*) FROM category") >= 60
    assert await scalar(engine, "SELECT count(*) FROM category WHERE pain_point") == 27
    unrouted = await _rows(
        engine,
        "SELECT code FROM category c WHERE NOT EXISTS (SELECT 1 FROM routing_rule r WHERE r.category_code = c.code)",
    )
    assert unrouted == []


async def test_policy_table_has_every_urgency_and_type_with_domain_defaults(engine):
    assert await scalar(engine, "SELECT count(*) FROM time_limit_policy") == 4 * 5
    rows = await _rows(
        engine,
        "SELECT urgency::text, completion_limit, completion_limit_unit::text FROM time_limit_policy WHERE appeal_type = 'complaint'",
    )
    assert dict((u, (n, unit)) for u, n, unit in rows) == {
        "emergency": (2, "hours"),
        "utility": (24, "hours"),
        "ordinary": (7, "days"),
        "complex": (15, "days"),
    }


async def test_holiday_calendar_covers_2026_and_2027(engine):
    for year in (2026, 2027):
        assert await scalar(
            engine, "SELECT count(*) FROM calendar_day WHERE kind = 'holiday' AND extract(year FROM day) = :y", y=year
        ) >= 20
    assert await scalar(engine, "SELECT kind::text FROM calendar_day WHERE day = :d", d=date(2026, 10, 1)) == "holiday"
    # every adjusted working day is a weekend day
    assert await scalar(
        engine, "SELECT count(*) FROM calendar_day WHERE kind = 'workday' AND extract(isodow FROM day) < 6"
    ) == 0


def test_a_one_district_override_wins_over_the_department_expansion():
    rows = routing_rows(
        [
            {"category": "X", "unit": "110105-DLYH", "district": "110105"},
            {"category": "X", "district_department": "CGW"},
        ],
        ["110101", "110105"],
    )
    assert {(r["district_code"], r["unit_code"]) for r in rows} == {("110101", "110101-CGW"), ("110105", "110105-DLYH")}


def test_seed_files_reference_only_known_units():
    units = {u["code"] for u in read("units")}
    for rule in read("routing"):
        if "unit" in rule:
            assert rule["unit"] in units, rule


async def _rows(engine, sql: str):
    async with engine.connect() as conn:
        return [tuple(r) for r in await conn.execute(sa.text(sql))]
