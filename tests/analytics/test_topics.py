"""Topics of real-looking complaints: what an analyst would put together lands together, and
nothing lands together because of a shared character."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import pytest
import pytest_asyncio
import sqlalchemy as sa

from analytics import topics
from analytics.hotspots import Filters
from analytics.periods import Period
from analytics.topics import OTHER, topic_keys
from domain.calendar import CHINA_TZ
from tests.analytics.conftest import add_appeal

#: the topic an analyst files each complaint under → the complaints
EXPECTED: dict[str, list[str]] = {
    "路灯": [
        "路灯不亮",
        "路灯坏了",
        "东城区安定门内大街的路灯不亮已经一个星期了，晚上出行很不安全",
        "小区门口的路灯坏了，希望尽快维修",
        "胡同里好几盏路灯晚上都不亮，老人走路容易摔倒",
        "交道口南大街路灯忽明忽暗，经常闪烁",
        "市民来电反映：公园北门附近街灯全部不亮，夜里一片漆黑",
    ],
    "噪音": [
        "楼下工地夜间施工噪音太大，凌晨两点还在打桩，严重影响休息",
        "楼下饭馆每天晚上营业到凌晨，客人喧哗吵闹扰民",
        "小区广场舞音响声音太大，噪音扰民，希望相关部门管一管",
        "邻居家装修电钻声太吵了，周末早上七点就开始",
        "晚上十点以后还有大货车鸣笛，吵得睡不着",
        "楼上住户深夜拖拽家具噪声很大",
        "楼下商户夜间卸货吵闹",
    ],
    "供暖": [
        "家里暖气不热，室温只有十四度，老人孩子都冻感冒了",
        "入冬以来供暖一直不达标，暖气片是凉的",
        "我们楼今年供热温度太低，多次找热力公司没有解决",
        "小区集中供暖开始后我家暖气还是凉的",
        "热力公司说管道检修，到现在还没来暖气",
        "交了采暖费家里还是不热",
    ],
    "垃圾": [
        "小区垃圾桶满了好几天没人清运，臭味很大",
        "胡同口的垃圾堆放了一周没人管，招来很多苍蝇",
        "小区内建筑垃圾长期堆放无人清理",
        "垃圾站清运不及时，垃圾散落一地",
    ],
    "停车": [
        "小区里乱停车现象严重，消防通道被私家车占用",
        "路边违章停车太多，早晚高峰堵得走不动",
        "小区车位不够，晚上回家根本找不到停车位",
        "家门口被人乱停车，挡住出入",
        "单位停车场收费太贵",
        "医院门口违停车辆太多，救护车都进不来",
        "小区地库停车位只租不售",
    ],
    "供水": [
        "家里突然停水了，也没有提前通知",
        "最近自来水水压太低，三楼以上都上不去水",
        "早上打开水龙头，自来水发黄有异味",
        "小区二次供水水箱太脏，水质浑浊",
        "自来水有一股漂白粉味",
    ],
    "物业": [
        "物业公司收了物业费却不打扫楼道，服务太差",
        "小区物业不作为，楼道堆满杂物也不清理",
        "物业费每年涨价，服务却越来越差",
        "物业经理态度恶劣，业主投诉没人回应",
    ],
    "电梯": ["电梯经常坏，上个月困人两次，物业一直拖着不修"],
    "加装电梯": ["老旧小区加装电梯的事情拖了两年没有进展"],
    "楼道灯": ["楼道里的声控灯坏了好久了"],
    "信号灯": ["路口红绿灯坏了，车辆和行人乱成一团"],
    "井盖": ["马路上井盖丢了，晚上很危险，差点有人掉下去"],
    "漏水": ["楼上卫生间漏水，把我家天花板泡坏了"],
    "供电": ["家里突然停电了，整栋楼都没电"],
    "燃气": ["燃气表坏了，燃气公司一直不来换"],
    "欠薪": ["公司拖欠工资三个月了，老板找不到人"],
    "预付卡": ["健身房突然关门，办的会员卡不给退费"],
    "油烟": ["楼下小饭馆油烟直接排到居民楼，窗户都不敢开"],
    "绿化": ["小区里的树枝太长挡住了窗户，希望修剪"],
    "排水": ["下水道堵塞，污水返到院子里"],
    "电动车充电": ["小区里有人飞线充电，电动车充电太危险"],
    "共享单车": ["共享单车乱停放把人行道堵死了"],
    "垃圾分类": ["垃圾分类桶站设置不合理，厨余垃圾没人管"],
}


def test_there_are_enough_complaints_to_mean_something():
    assert sum(len(v) for v in EXPECTED.values()) >= 50


def test_complaints_are_grouped_as_an_analyst_would():
    got: dict[str, set[str]] = defaultdict(set)
    for sentences in EXPECTED.values():
        for s in sentences:
            got[topic_keys(s)[0]].add(s)
    assert dict(got) == {k: set(v) for k, v in EXPECTED.items()}


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
