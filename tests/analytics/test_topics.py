"""Topics of real-looking complaints: what an analyst would put together lands together, and
nothing lands together because of a shared character."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest
import pytest_asyncio
import sqlalchemy as sa
import yaml

from analytics import topics
from analytics.hotspots import Filters
from analytics.periods import Period
from analytics.topics import OTHER, topic_keys
from domain.calendar import CHINA_TZ
from tests.analytics.conftest import add_appeal

HERE = Path(__file__).parent
CORPUS = yaml.safe_load((HERE / "topic_corpus.yaml").read_text(encoding="utf-8"))
#: the topic an analyst files each complaint under → the complaints, as callers say them
EXPECTED: dict[str, list[str]] = CORPUS["complaints"]
PHRASINGS = [(topic, text) for topic, texts in EXPECTED.items() for text in texts]


def test_there_are_enough_complaints_to_mean_something():
    assert len(PHRASINGS) >= 200
    assert len({text for _, text in PHRASINGS}) == len(PHRASINGS)  # no complaint filed twice


def test_every_pain_point_of_the_catalogue_has_its_topic_and_its_complaints():
    catalogue = yaml.safe_load((HERE.parents[1] / "seed" / "data" / "categories.yaml").read_text(encoding="utf-8"))
    pain_points = {c["code"] for c in catalogue if c["pain_point"]}
    assert set(CORPUS["pain_points"]) == pain_points
    for code, topic in CORPUS["pain_points"].items():
        assert topics.label(topic) is not None, code  # a lexicon topic, not a fallback noun
        assert len(EXPECTED.get(topic, [])) >= 3, code


@pytest.mark.parametrize(("topic", "text"), PHRASINGS, ids=[f"{i:03d}-{topics.label(t)}" for i, (t, _) in enumerate(PHRASINGS)])
def test_a_complaint_as_callers_say_it_lands_in_its_topic(topic, text):
    assert topic_keys(text)[0] == topic


def test_complaints_are_grouped_as_an_analyst_would():
    got: dict[str, set[str]] = defaultdict(set)
    for sentences in EXPECTED.values():
        for s in sentences:
            got[topic_keys(s)[0]].add(s)
    assert dict(got) == {k: set(v) for k, v in EXPECTED.items()}


def test_everyday_words_and_synonyms_land_on_the_one_key():
    # 房本 is what people call the 房产证; weeds are weeds whatever word the caller picks
    assert topic_keys("房本办了五年还没下来，开发商一直拖着") == ["房产证", "开发商"]
    assert {topic_keys(t)[0] for t in ("房本", "不动产证", "房产证", "不动产权证书")} == {"房产证"}
    assert {topic_keys(f"小区里{w}没人管")[0] for w in ("杂草", "野草", "荒草")} == {"绿化"}
    assert {topic_keys(t)[0] for t in ("暖气不热", "供暖不达标", "家里不热", "停暖了")} == {"供暖"}
    assert {topic_keys(t)[0] for t in ("楼上漏水", "墙角渗水", "屋顶漏雨")} == {"漏水"}
    assert {topic_keys(t)[0] for t in ("垃圾没人收", "清运不及时")} == {"垃圾"}
    assert {topic_keys(t)[0] for t in ("电梯停运了", "又停梯了")} == {"电梯"}


def test_a_weak_word_names_a_topic_only_when_nothing_surer_is_named():
    assert topic_keys("门口那段灯不亮") == ["路灯"]
    assert topic_keys("楼道灯不亮") == ["楼道灯"]  # not also a street light
    assert topic_keys("行人信号灯不亮") == ["信号灯"]
    assert topic_keys("KTV半夜扰民") == ["噪音"]
    assert topic_keys("饭馆油烟扰民") == ["油烟"]
    assert topic_keys("车辆占道") == ["停车"]
    assert topic_keys("占道摆摊") == ["占道经营"]
    assert topic_keys("绿地上盖了个彩钢房") == ["违建"]


def test_a_light_that_is_out_and_a_light_that_is_broken_are_one_topic():
    # without the domain dictionary jieba cuts 路灯不亮 as 路 / 灯不亮
    assert topic_keys("路灯不亮") == topic_keys("路灯坏了") == ["路灯"]


def test_the_object_comes_first_then_the_cause_or_who_is_responsible():
    assert topic_keys("楼下工地夜间施工噪音太大，凌晨两点还在打桩") == ["噪音", "施工"]
    assert topic_keys("电梯经常坏，上个月困人两次，物业一直拖着不修") == ["电梯", "物业"]
    assert topic_keys("小区门口的早点摊占道经营，垃圾乱扔") == ["占道经营", "垃圾"]
    assert len(topic_keys("路面坑洼不平，下雨天积水，路灯也不亮，垃圾没人清运，噪音很大")) == topics.MAX_KEYS


@pytest.mark.parametrize(
    ("text", "not_topic"),
    [
        ("水果摊缺斤少两，价格欺诈", "供水"),  # 水 is in 水果, not a water supply problem
        ("路口红绿灯坏了", "路灯"),  # a traffic light is not a street light
        ("邻居两口子天天吵架", "噪音"),  # 吵架 (a quarrel) is not 吵 (noisy)
        ("老旧小区加装电梯", "电梯"),  # adding a lift is not a broken one
        ("楼道里的声控灯坏了", "路灯"),
    ],
)
def test_words_match_whole_never_as_characters(text, not_topic):
    assert not_topic not in topic_keys(text)


def test_text_the_lexicon_does_not_know_falls_back_on_its_noun_and_never_on_nothing():
    assert topic_keys("我想咨询一下社保转移的手续") == ["社保"]
    assert topic_keys("小区门前的雕塑倒了") == ["雕塑"]
    assert topic_keys("") == [OTHER]
    assert topic_keys("   ") == [OTHER]
    assert topic_keys("谢谢") == [OTHER]


def test_the_same_text_always_gives_the_same_keys():
    text = "小区垃圾桶满了好几天没人清运，臭味很大"
    assert topic_keys(text) == topic_keys(text) == ["垃圾", "异味"]
    topic_keys(text).append("x")  # the caller's list is its own
    assert topic_keys(text) == ["垃圾", "异味"]


# --- stored and counted ----------------------------------------------------------------------

OCT = Period.month(2026, 10)


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ)


@pytest_asyncio.fixture(scope="module")
async def engine(own_engine):
    """October: 3 about lights (one in Chaoyang), 2 about heating; September: 1 about lights,
    3 about heating."""
    rows = [
        ("T-OCT-1", "路灯不亮", "110101", bj(2026, 10, 1, 0, 5)),
        ("T-OCT-2", "路灯坏了好几天", "110101", bj(2026, 10, 8, 9)),
        ("T-OCT-3", "胡同里的路灯晚上都不亮", "110105", bj(2026, 10, 20, 9)),
        ("T-OCT-4", "暖气不热", "110101", bj(2026, 10, 21, 9)),
        ("T-OCT-5", "夜间施工噪音扰民，暖气也不热", "110101", bj(2026, 10, 31, 23)),
        ("T-SEP-1", "路灯不亮", "110101", bj(2026, 9, 30, 23, 55)),
        ("T-SEP-2", "暖气不热", "110101", bj(2026, 9, 2, 9)),
        ("T-SEP-3", "供暖温度太低", "110101", bj(2026, 9, 3, 9)),
        ("T-SEP-4", "暖气片是凉的", "110101", bj(2026, 9, 4, 9)),
    ]
    async with own_engine.begin() as conn:
        for no, content, district, received in rows:
            await add_appeal(conn, no, unit=None, category="MUNI.STREETLIGHT", district=district, street=None,
                             received_at=received, content=content)
        await topics.fill_topics(conn, ["T-OCT-1", "T-OCT-2"])
    assert await topics.backfill_topics(own_engine, batch=3) == 7  # the others, in batches
    assert await topics.backfill_topics(own_engine) == 0  # nothing left without topics
    return own_engine


async def test_topics_are_stored_with_the_appeal_once(engine):
    async with engine.begin() as conn:
        assert await topics.fill_topics(conn, ["T-OCT-5"]) == 0  # already there
        rows = (await conn.execute(sa.text(
            "SELECT topic, rank, district_code FROM appeal_topic WHERE appeal_no = 'T-OCT-5' ORDER BY rank"))).all()
    assert [tuple(r) for r in rows] == [("噪音", 0, "110101"), ("供暖", 1, "110101"), ("施工", 2, "110101")]


async def test_topics_of_a_month_against_the_month_before(engine):
    async with engine.connect() as conn:
        page = await topics.topic_counts(conn, OCT)
    got = {t.topic: (t.count, t.previous) for t in page.topics}
    assert got == {"路灯": (3, 1), "供暖": (2, 3), "噪音": (1, 0), "施工": (1, 0)}
    assert [t.topic for t in page.topics][:2] == ["路灯", "供暖"]
    assert (page.appeals, page.appeals_previous, page.total_topics) == (5, 4, 4)
    lights = page.topics[0]
    assert lights.examples == ["T-OCT-3", "T-OCT-2", "T-OCT-1"]
    assert (lights.change, lights.change_pct, lights.label_en) == (2, 2.0, "street lights")


async def test_topics_narrowed_to_a_district_and_paged(engine):
    async with engine.connect() as conn:
        page = await topics.topic_counts(conn, OCT, filters=Filters(district="110105"))
        assert [(t.topic, t.count, t.examples) for t in page.topics] == [("路灯", 1, ["T-OCT-3"])]
        second = await topics.topic_counts(conn, OCT, limit=1, offset=1)
        assert [t.topic for t in second.topics] == ["供暖"] and second.total_topics == 4
        past = await topics.topic_counts(conn, OCT, limit=10, offset=10)
        assert past.topics == [] and past.total_topics == 4


async def test_topics_stored_by_an_older_lexicon_are_brought_in_line(engine):
    """Appeals of August whose topics were worked out before the lexicon knew 野草 and 房本."""
    stale = {"T-AUG-1": ("小区里的野草长得比人还高", ["野草"]),
             "T-AUG-2": ("房本办了五年还没下来，开发商一直拖着", ["开发商"]),
             "T-AUG-3": ("路灯不亮", ["路灯"]),  # already right: left alone
             "T-AUG-4": ("楼下KTV半夜扰民", None)}  # never given topics
    async with engine.begin() as conn:
        for no, (content, keys) in stale.items():
            await add_appeal(conn, no, unit=None, category="MUNI.STREETLIGHT", district="110101", street=None,
                             received_at=bj(2026, 8, 3, 9), content=content)
            if keys:
                rows = topics.topic_rows((await conn.execute(
                    sa.text("SELECT * FROM appeal WHERE appeal_no = :n"), {"n": no})).one(), keys)
                await topics.insert_rows(conn, rows)

    assert await topics.recompute_topics(engine, batch=2) == 3
    assert await topics.recompute_topics(engine) == 0  # nothing left to bring in line
    async with engine.connect() as conn:
        got = (await conn.execute(sa.text(
            "SELECT appeal_no, array_agg(topic ORDER BY rank) FROM appeal_topic "
            "WHERE appeal_no LIKE 'T-AUG-%' GROUP BY appeal_no ORDER BY appeal_no"))).all()
        october = await topics.topic_counts(conn, OCT)
    assert dict(got) == {"T-AUG-1": ["绿化"], "T-AUG-2": ["房产证", "开发商"], "T-AUG-3": ["路灯"],
                         "T-AUG-4": ["噪音"]}
    assert {t.topic: (t.count, t.previous) for t in october.topics} == {
        "路灯": (3, 1), "供暖": (2, 3), "噪音": (1, 0), "施工": (1, 0)}  # the others untouched
