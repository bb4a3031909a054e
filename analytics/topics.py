"""Topics of the appeals' text (诉求内容主题): the Chinese text is cut into words with jieba and
the words are mapped onto a small domain lexicon, so that "路灯不亮" and "路灯坏了" both land in
the topic 路灯 (street lights), "暖气不热" and "供热温度太低" in 供暖 (heating).

A topic key is the salient domain noun of the complaint, in Chinese, as a hotline analyst would
name it. An appeal has one to three keys, the most specific first: the object that is broken or
the nuisance (路灯, 噪音, 电梯) before the one responsible for it (物业) or the activity causing it
(施工). Text the lexicon does not know falls back on its first content noun, and text with none
on 其他 (other), so that every appeal has at least one key and "without topics" means "not yet
processed".

Keys are computed once per appeal, at intake (analytics/intake.py, in the intake's transaction)
or in bulk (`fill_topics`, `backfill_topics`), into `appeal_topic`; queries over a period read
that table. After the lexicon learns words, `recompute_topics` brings the stored keys of older
appeals in line with it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jieba
import jieba.posseg
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from analytics.hotspots import Filters, as_connection, both_periods
from analytics.periods import Period
from db.models import AppealTopic

OTHER = "其他"
MAX_KEYS = 3


@dataclass(frozen=True)
class Topic:
    key: str
    label_en: str
    specificity: int  # 3: the broken object or the nuisance; 2: a kind of work or place; 1: who is responsible
    words: tuple[str, ...]
    # Words that point at the topic only when the text names nothing surer: a symptom ("不亮" is a
    # street light unless a stairwell light or a traffic light is named), a place ("绿地" is
    # greenery unless something was built on it), a nuisance said in general ("扰民").
    weak: tuple[str, ...] = ()


# The domain lexicon, with the words callers use on the phone as well as the catalogue's (房本
# for 房产证, 野草 and 荒草 for 杂草, 老头乐 for 老年代步车); it covers each of the catalogue's pain
# points (seed/data/categories.yaml). Keys never change meaning: they are stored (appeal_topic)
# and compared across periods; a new synonym goes onto the existing key. Every word is also
# given to jieba as a user word, so that it is never cut apart ("路灯不亮" is 路灯 / 不亮, not
# 路 / 灯不亮).
LEXICON: tuple[Topic, ...] = (
    Topic("路灯", "street lights", 3, ("路灯", "街灯", "路灯杆", "灯杆", "照明灯", "庭院灯", "路灯不亮"),
          weak=("不亮",)),
    Topic("楼道灯", "stairwell lights", 3, ("楼道灯", "声控灯", "感应灯")),
    Topic("信号灯", "traffic lights", 3, ("红绿灯", "信号灯", "交通信号灯", "红灯", "绿灯", "黄灯", "配时")),
    Topic("噪音", "noise", 3, ("噪音", "噪声", "吵闹", "吵", "喧哗", "太吵", "吵死", "鸣笛", "广场舞", "音响",
                              "打桩", "狗叫", "大喇叭", "叫卖", "砸墙", "电钻"), weak=("扰民", "放音乐")),
    Topic("供暖", "heating", 3, ("暖气", "暖气片", "供暖", "供热", "采暖", "室温", "热力", "地暖", "不热", "停暖",
                              "暖气管", "热力公司", "供暖费", "采暖费")),
    Topic("垃圾分类", "waste sorting", 3, ("垃圾分类", "分类投放", "厨余垃圾", "可回收物", "厨余", "桶站",
                                      "定时定点", "垃圾分类指导员")),
    Topic("垃圾", "rubbish", 3, ("垃圾", "垃圾桶", "垃圾箱", "垃圾站", "垃圾堆", "垃圾楼", "清运", "暴露垃圾",
                              "建筑垃圾", "装修垃圾", "大件垃圾", "生活垃圾", "垃圾池")),
    Topic("停车", "parking", 3, ("停车", "车位", "停车位", "停车场", "乱停", "违停", "违章停车", "占道停车",
                              "停车费", "停车难", "私家车", "挪车", "地锁", "车位费", "乱停车"), weak=("占道",)),
    Topic("僵尸车", "abandoned vehicles", 3, ("僵尸车", "废弃车辆")),
    Topic("无牌车", "unlicensed tricycles and mobility cars", 3, (
        "老年代步车", "代步车", "老头乐", "三轮车", "电动三轮车", "电动三轮", "电动四轮车", "四轮车", "无牌",
        "无牌照", "没牌照")),
    Topic("供水", "water supply", 3, ("停水", "自来水", "水压", "供水", "没水", "断水", "水质", "水龙头",
                                   "水管", "上水", "二次供水")),
    Topic("供电", "power supply", 3, ("停电", "断电", "电压", "跳闸", "供电", "没电", "电线", "电线杆")),
    Topic("燃气", "gas", 3, ("燃气", "天然气", "煤气", "燃气表", "漏气", "燃气灶", "燃气公司", "燃气卡", "开栓",
                           "煤气罐", "液化气")),
    Topic("电梯", "lifts", 3, ("电梯", "困人", "电梯故障", "电梯停运", "停梯")),
    Topic("加装电梯", "adding lifts", 3, ("加装电梯", "装电梯", "加梯")),
    Topic("井盖", "manhole covers", 3, ("井盖", "窨井盖")),
    Topic("积水", "flooding", 3, ("积水", "内涝", "淹水")),
    Topic("排水", "drains and sewage", 3, ("下水道", "污水", "排水", "化粪池", "返水", "管道堵塞", "冒水")),
    Topic("道路", "road surface", 3, ("路面", "坑洼", "坑槽", "破损路面", "塌陷", "人行道", "步道", "盲道",
                                   "坑坑洼洼")),
    Topic("油烟", "cooking fumes", 3, ("油烟", "油烟机")),
    Topic("异味", "smells", 3, ("异味", "臭味", "恶臭", "臭气")),
    Topic("绿化", "trees and greenery", 3, ("树枝", "树木", "杂草", "草坪", "绿化", "修剪", "枯树", "野草", "荒草",
                                        "杂草丛生", "大树", "树杈", "枯枝"), weak=("绿地", "绿化带")),
    Topic("占道经营", "street vending", 3, ("摆摊", "摊贩", "小商贩", "游商", "占道经营", "早点摊")),
    Topic("小广告", "flyers and ads", 3, ("小广告", "牛皮癣", "广告牌")),
    Topic("违建", "illegal construction", 3, ("违建", "违章建筑", "私搭乱建", "违法建设", "加盖", "私搭",
                                          "彩钢房", "阳光房", "扩建", "挖地下室")),
    Topic("共享单车", "shared bikes", 3, ("共享单车", "单车")),
    Topic("电动车充电", "e-bike charging", 3, ("飞线充电", "充电桩", "电动车充电", "充电")),
    Topic("群租", "group rentals", 3, ("群租", "群租房", "隔断房", "隔断", "隔出来", "上下铺")),
    Topic("中介", "estate and letting agents", 3, ("中介", "中介费", "黑中介", "房产中介", "长租公寓",
                                               "租赁公司", "住房租赁公司")),
    Topic("租房", "tenancies", 3, ("房东", "二房东", "房租", "租金", "退租", "租房", "合租", "转租")),
    Topic("欠薪", "unpaid wages", 3, ("拖欠工资", "欠薪", "工资", "工钱", "讨薪", "包工头")),
    Topic("劳动纠纷", "employment disputes", 3, ("劳动合同", "劳务纠纷", "劳动纠纷", "辞退", "开除", "加班",
                                             "加班费", "经济补偿", "劳动仲裁", "劳务派遣", "试用期")),
    Topic("预付卡", "prepaid cards", 3, ("预付卡", "会员卡", "退费", "退卡", "储值卡", "办卡", "充值", "预付",
                                     "跑路")),
    Topic("网购", "online shopping", 3, ("网购", "网店", "网上买", "直播间", "电商", "电商平台", "退货",
                                      "七天无理由", "拼多多", "淘宝", "京东", "不发货")),
    Topic("校外培训", "tutoring schools", 3, ("校外培训", "培训机构", "培训班", "补习班", "辅导班", "补课",
                                          "课时费")),
    Topic("入学", "school places", 3, ("入学", "学位", "幼儿园", "入园", "转学", "普惠园", "上小学", "划片")),
    Topic("挂号", "hospital appointments", 3, ("挂号", "号源", "专家号", "预约挂号", "号贩子", "约不到号",
                                           "难挂", "放号")),
    Topic("医保", "medical insurance", 3, ("医保", "报销", "医保卡")),
    Topic("养老", "elderly care", 3, ("养老", "养老院", "助餐", "老年餐桌", "居家养老", "养老驿站", "助浴")),
    Topic("拥堵", "congestion", 3, ("堵车", "拥堵", "交通拥堵", "堵死", "堵得", "太堵", "早高峰", "晚高峰")),
    Topic("公交", "buses", 3, ("公交", "公交车", "公交站", "站牌")),
    Topic("房产证", "property certificates", 3, ("房产证", "不动产证", "产权证", "房本", "不动产权证",
                                             "不动产权证书", "不动产登记")),
    Topic("农村环境", "rural living environment", 3, ("旱厕", "改厕", "秸秆", "焚烧秸秆", "养殖场", "畜禽粪便",
                                                  "坑塘", "村容村貌", "人居环境", "柴草", "柴草垛")),
    Topic("漏水", "leaks in the building", 2, ("漏水", "渗水", "跑水", "漏雨", "滴水")),
    Topic("施工", "construction works", 2, ("施工", "工地", "渣土车", "夜间施工")),
    Topic("老旧小区改造", "renovation of old estates", 2, ("老旧小区改造", "改造", "老旧小区综合整治", "外墙保温")),
    Topic("社保", "social insurance", 3, ("社保", "社会保险", "养老保险", "失业保险")),
    Topic("楼道", "stairwells", 1, ("楼道", "堆物", "杂物")),
    Topic("物业", "property management", 1, ("物业", "物业公司", "物业费", "物业服务", "物业管理")),
    Topic("开发商", "developers", 1, ("开发商", "房地产开发公司")),
    Topic("收费", "charges", 1, ("收费", "乱收费", "工本费", "垃圾费")),
)

#: Words that never make a topic on their own (when the text matches no lexicon word).
STOP_WORDS = frozenset(
    """
    问题 情况 小区 居民 市民 来电 反映 希望 相关 部门 相关部门 尽快 处理 解决 附近 楼 号 家 家里 门口 现在 一直
    已经 多次 经常 我们 他们 这里 那里 时间 每天 晚上 早上 白天 凌晨 最近 目前 今年 去年 上个月 这个 那个 东西
    事情 地方 人员 工作人员 单位 公司 社区 街道 政府 区 市 北京 北京市 路口 楼下 楼上 院子 院里 胡同 周边 影响 生活
    老人 孩子 有人 大家 业主 住户 领导 电话 热线 12345 诉求 要求 原因 结果 效果 方面 部分 全部 现象 进展 通知
    咨询 投诉 举报 询问 办理 手续 帮助 答复 回复 管理 服务 态度 工作 问题反映
    """.split()
)

#: Parts of speech that name things (jieba's tags), for the fallback.
_NOUN_TAGS = ("n", "nz", "vn", "nl", "ng")

_WORD_TOPIC: dict[str, Topic] = {w: t for t in LEXICON for w in t.words}
_WEAK_TOPIC: dict[str, Topic] = {w: t for t in LEXICON for w in t.weak}
_LABELS: dict[str, str] = {t.key: t.label_en for t in LEXICON} | {OTHER: "other"}

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_pos: jieba.posseg.POSTokenizer | None = None


def _tokenizers() -> tuple[jieba.Tokenizer, jieba.posseg.POSTokenizer]:
    """jieba with the domain words added, built once per process (about a second)."""
    global _tokenizer, _pos
    with _lock:
        if _tokenizer is None:
            logging.getLogger("jieba").setLevel(logging.WARNING)
            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            for word in (*_WORD_TOPIC, *_WEAK_TOPIC):
                # frequent enough to win over any cut through it (路/灯不亮 ...)
                tokenizer.add_word(word, freq=max(tokenizer.suggest_freq(word), 200_000), tag="n")
            _pos = jieba.posseg.POSTokenizer(tokenizer)
            _tokenizer = tokenizer
        return _tokenizer, _pos  # type: ignore[return-value]


def warm_up() -> None:
    """Load the dictionary now rather than on the first appeal."""
    _tokenizers()


def label(key: str) -> str | None:
    """The English label of a topic key (None for a fallback noun)."""
    return _LABELS.get(key)


@lru_cache(maxsize=8192)
def _keys(text: str) -> tuple[str, ...]:
    tokenizer, pos = _tokenizers()
    words = list(tokenizer.cut(text, HMM=False))
    for lexicon in (_WORD_TOPIC, _WEAK_TOPIC):  # weak words only when no sure word was found
        found: dict[str, tuple[int, int]] = {}  # key → (specificity, first position)
        for i, word in enumerate(words):
            topic = lexicon.get(word)
            if topic is not None and topic.key not in found:
                found[topic.key] = (topic.specificity, i)
        if found:
            ranked = sorted(found, key=lambda k: (-found[k][0], found[k][1]))
            return tuple(ranked[:MAX_KEYS])
    for pair in pos.cut(text, HMM=False):
        word, flag = pair.word, pair.flag
        if flag in _NOUN_TAGS and len(word) >= 2 and word not in STOP_WORDS and not word.isascii():
            return (word,)
    return (OTHER,)


def topic_keys(text: str) -> list[str]:
    """The topic keys of an appeal's text, the most specific first (one to three; never empty).

    Pure: the same text always gives the same keys. Texts are cut with jieba (no HMM, so only
    dictionary words) and matched on whole words, never on substrings.
    """
    text = (text or "").strip()
    if not text:
        return [OTHER]
    return list(_keys(text[:2000]))


# --- storage ---------------------------------------------------------------------------------


def topic_rows(appeal: Any, keys: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """`appeal_topic` rows for an appeal (anything with appeal_no, content, received_at,
    category_code, district_code, street_code: a row, a model, a namespace), with its keys when
    they were worked out already."""
    return [
        {
            "appeal_no": appeal.appeal_no,
            "topic": key,
            "rank": rank,
            "received_at": appeal.received_at,
            "category_code": appeal.category_code,
            "district_code": appeal.district_code,
            "street_code": appeal.street_code,
        }
        for rank, key in enumerate(topic_keys(appeal.content) if keys is None else keys)
    ]


async def insert_rows(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """Write topic rows; rows already there are left alone (so a retry is harmless)."""
    if rows:
        stmt = insert(AppealTopic.__table__).on_conflict_do_nothing(index_elements=["appeal_no", "topic"])
        await conn.execute(stmt, list(rows))  # executemany, batched by the driver


_APPEAL_COLUMNS = "appeal_no, content, received_at, category_code, district_code, street_code"


async def fill_topics(conn: AsyncConnection, appeal_nos: Iterable[str]) -> int:
    """Compute and store the topics of these appeals (in the caller's transaction). Appeals that
    already have theirs are skipped; returns the number of appeals given topics."""
    numbers = list(dict.fromkeys(appeal_nos))
    if not numbers:
        return 0
    rows = await conn.execute(
        sa.text(
            f"""
            SELECT {_APPEAL_COLUMNS} FROM appeal a
            WHERE a.appeal_no = ANY(CAST(:nos AS text[]))
              AND NOT EXISTS (SELECT 1 FROM appeal_topic t WHERE t.appeal_no = a.appeal_no)
            """
        ),
        {"nos": numbers},
    )
    appeals = rows.all()
    await insert_rows(conn, [r for appeal in appeals for r in topic_rows(appeal)])
    return len(appeals)


async def backfill_topics(engine: AsyncEngine, *, batch: int = 2000, limit: int | None = None) -> int:
    """Fill the topics of every appeal that has none, a batch per transaction, in the order of
    their numbers. Returns the number of appeals processed."""
    done, after = 0, ""
    while limit is None or done < limit:
        size = batch if limit is None else min(batch, limit - done)
        async with engine.begin() as conn:
            appeals = (
                await conn.execute(
                    sa.text(
                        f"""
                        SELECT {_APPEAL_COLUMNS} FROM appeal a
                        WHERE a.appeal_no > :after
                          AND NOT EXISTS (SELECT 1 FROM appeal_topic t WHERE t.appeal_no = a.appeal_no)
                        ORDER BY a.appeal_no LIMIT :size
                        """
                    ),
                    {"after": after, "size": size},
                )
            ).all()
            if not appeals:
                break
            await insert_rows(conn, [r for appeal in appeals for r in topic_rows(appeal)])
        done += len(appeals)
        after = appeals[-1].appeal_no
    return done


async def recompute_topics(engine: AsyncEngine, *, batch: int = 2000) -> int:
    """Work the topics of every appeal out again with the lexicon as it is now, and replace
    those stored that differ (keys found by an older lexicon: a fallback noun like 野草 that is
    now a synonym of 绿化, a key missing), a batch per transaction, in the order of their
    numbers. Appeals without topics get theirs. Returns the number of appeals whose topics
    were (re)written; run again, it gives 0."""
    done, after = 0, ""
    while True:
        async with engine.begin() as conn:
            appeals = (
                await conn.execute(
                    sa.text(
                        f"""
                        SELECT {_APPEAL_COLUMNS},
                               ARRAY(SELECT t.topic FROM appeal_topic t
                                     WHERE t.appeal_no = a.appeal_no ORDER BY t.rank) AS stored
                        FROM appeal a WHERE a.appeal_no > :after ORDER BY a.appeal_no LIMIT :size
                        """
                    ),
                    {"after": after, "size": batch},
                )
            ).all()
            if not appeals:
                break
            stale = [(a, keys) for a in appeals if (keys := topic_keys(a.content)) != list(a.stored)]
            if stale:
                await conn.execute(
                    sa.text("DELETE FROM appeal_topic WHERE appeal_no = ANY(CAST(:nos AS text[]))"),
                    {"nos": [a.appeal_no for a, _ in stale]},
                )
                await insert_rows(conn, [r for a, keys in stale for r in topic_rows(a, keys)])
        done += len(stale)
        after = appeals[-1].appeal_no
    return done


# --- topics of a period ----------------------------------------------------------------------


@dataclass
class TopicCount:
    topic: str
    count: int  # appeals of the period with this topic
    previous: int  # ... of the period before
    examples: list[str]

    @property
    def label_en(self) -> str | None:
        return label(self.topic)

    @property
    def change(self) -> int:
        return self.count - self.previous

    @property
    def change_pct(self) -> float | None:
        return round(self.change / self.previous, 4) if self.previous else None


@dataclass
class TopicPage:
    topics: list[TopicCount]
    total_topics: int
    appeals: int  # appeals received in the period (with the filters), each counted once
    appeals_previous: int


async def topic_counts(
    session: AsyncSession | AsyncConnection,
    period: Period,
    *,
    filters: Filters = Filters(),
    limit: int = 50,
    offset: int = 0,
    examples: int = 3,
) -> TopicPage:
    """The topics of the appeals received in the period, the most frequent first, against the
    period before; an appeal counts once in each of its topics. With the latest appeal numbers
    of each topic on the page."""
    conn = await as_connection(session)
    params = both_periods(period) | {"limit": limit, "offset": offset}
    where = filters.sql(params)
    rows = (
        await conn.execute(
            sa.text(
                f"""
                WITH t AS (
                    SELECT topic,
                           count(*) FILTER (WHERE received_at >= :start) AS n,
                           count(*) FILTER (WHERE received_at < :start) AS before
                    FROM appeal_topic
                    WHERE received_at >= :p_start AND received_at < :end{where}
                    GROUP BY topic
                )
                SELECT k.topic, k.n, k.before, (SELECT count(*) FROM t) AS topics
                FROM (SELECT 1) one LEFT JOIN LATERAL (
                    SELECT * FROM t ORDER BY n DESC, n - before DESC, topic LIMIT :limit OFFSET :offset
                ) k ON true
                """
            ),
            params,
        )
    ).all()
    appeals = (
        await conn.execute(
            sa.text(
                f"""
                SELECT count(*) FILTER (WHERE received_at >= :start) AS n,
                       count(*) FILTER (WHERE received_at < :start) AS before
                FROM appeal WHERE received_at >= :p_start AND received_at < :end{where}
                """
            ),
            params,
        )
    ).one()
    page = [TopicCount(r.topic, r.n, r.before, []) for r in rows if r.topic is not None]
    if page and examples > 0:
        start, end = period.bounds()
        ex_params: dict[str, Any] = {"topics": [t.topic for t in page], "start": start, "end": end, "per": examples}
        ex_where = filters.sql(ex_params, alias="x")
        found: dict[str, list[str]] = {}
        for r in await conn.execute(
            sa.text(
                f"""
                SELECT k.topic, e.appeal_no
                FROM unnest(CAST(:topics AS text[])) AS k(topic)
                CROSS JOIN LATERAL (
                    SELECT x.appeal_no FROM appeal_topic x
                    WHERE x.topic = k.topic AND x.received_at >= :start AND x.received_at < :end{ex_where}
                    ORDER BY x.received_at DESC, x.appeal_no DESC LIMIT :per
                ) e
                """
            ),
            ex_params,
        ):
            found.setdefault(r.topic, []).append(r.appeal_no)
        for t in page:
            t.examples = found.get(t.topic, [])
    return TopicPage(page, rows[0].topics, appeals.n, appeals.before)


async def _main(recompute: bool) -> None:
    """`python -m analytics.topics`: give topics to every appeal without them; with
    `--recompute`, also rewrite those the lexicon now reads differently."""
    from db.session import make_engine

    engine = make_engine()
    try:
        warm_up()
        if recompute:
            print(f"topics rewritten for {await recompute_topics(engine)} appeals")
        else:
            print(f"topics worked out for {await backfill_topics(engine)} appeals")
    finally:
        await engine.dispose()


if __name__ == "__main__":
    import argparse
    import asyncio

    parser = argparse.ArgumentParser(prog="python -m analytics.topics", description=_main.__doc__)
    parser.add_argument("--recompute", action="store_true",
                        help="work out every appeal's topics again and rewrite those that differ")
    asyncio.run(_main(parser.parse_args().recompute))
